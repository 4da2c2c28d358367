import CCurl
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP client on libcurl's multi interface: one thread drives every transfer, so
/// many requests run concurrently without a thread each, connections are reused
/// (keep-alive), and HTTP/2 streams share a connection when the server offers it.
package final class HTTPClient: Sendable {
    package let options: HTTPClientOptions
    private let multi: MultiHandle
    private let state = Mutex(State())
    private let thread = Mutex<pthread_t?>(nil)

    private struct State {
        var pending: [Transfer] = []
        var cancelled: [Transfer] = []
        var shuttingDown = false
    }

    /// The `CURLM*`, used only by the loop thread (and `curl_multi_wakeup`, which is
    /// safe from any thread).
    private final class MultiHandle: @unchecked Sendable {
        let pointer: UnsafeMutableRawPointer

        init() {
            curl_global_init(Int(CURL_GLOBAL_DEFAULT))
            pointer = curl_multi_init()
            accord_curl_multi_setopt_long(pointer, CURLMOPT_PIPELINING, Int(CURLPIPE_MULTIPLEX))
            accord_curl_multi_setopt_long(pointer, CURLMOPT_MAX_HOST_CONNECTIONS, 64)
        }
    }

    package init(options: HTTPClientOptions = HTTPClientOptions()) {
        self.options = options
        multi = MultiHandle()
        let context = Unmanaged.passRetained(self).toOpaque()
        var handle = pthread_t()
        let created = pthread_create(
            &handle, nil,
            { context in
                let client = Unmanaged<HTTPClient>.fromOpaque(context!).takeRetainedValue()
                client.runLoop()
                return nil
            }, context)
        precondition(created == 0, "cannot start the HTTP client thread: \(created)")
        thread.withLock { $0 = handle }
    }

    /// Sends a request and returns the whole response. Task cancellation aborts the
    /// transfer and throws `HTTPClientError.cancelled`.
    package func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let transfer = Transfer(request: request, options: options)
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    transfer.continuation = continuation
                    let accepted = state.withLock { state -> Bool in
                        guard !state.shuttingDown else { return false }
                        state.pending.append(transfer)
                        return true
                    }
                    if accepted {
                        curl_multi_wakeup(multi.pointer)
                    } else {
                        transfer.continuation = nil
                        continuation.resume(throwing: HTTPClientError.shutDown)
                    }
                }
            } onCancel: {
                transfer.cancelled.store(true, ordering: .relaxed)
                state.withLock { $0.cancelled.append(transfer) }
                curl_multi_wakeup(multi.pointer)
            }
        } catch let error as HTTPClientError {
            throw error
        } catch {
            throw .cancelled
        }
    }

    /// Aborts every transfer (they throw `.shutDown`) and stops the loop thread.
    package func shutdown() {
        state.withLock { $0.shuttingDown = true }
        curl_multi_wakeup(multi.pointer)
        if let handle = thread.withLock({ state -> pthread_t? in
            defer { state = nil }
            return state
        }) {
            pthread_join(handle, nil)
        }
    }

    private func runLoop() {
        var active: [UnsafeMutableRawPointer: Transfer] = [:]
        while true {
            let (pending, cancelled, stopping) = state.withLock { state in
                defer {
                    state.pending.removeAll()
                    state.cancelled.removeAll()
                }
                return (state.pending, state.cancelled, state.shuttingDown)
            }
            for transfer in pending {
                if transfer.cancelled.load(ordering: .relaxed) {
                    finish(transfer, .failure(.cancelled))
                } else if let problem = transfer.prepare() {
                    finish(transfer, .failure(problem))
                } else if let easy = transfer.easy {
                    curl_multi_add_handle(multi.pointer, easy)
                    active[easy] = transfer
                }
            }
            for transfer in cancelled {
                guard let easy = transfer.easy, active.removeValue(forKey: easy) != nil else { continue }
                curl_multi_remove_handle(multi.pointer, easy)
                finish(transfer, .failure(.cancelled))
            }
            if stopping {
                for (easy, transfer) in active {
                    curl_multi_remove_handle(multi.pointer, easy)
                    finish(transfer, .failure(.shutDown))
                }
                let late = state.withLock { state -> [Transfer] in
                    defer { state.pending.removeAll() }
                    return state.pending
                }
                for transfer in late { finish(transfer, .failure(.shutDown)) }
                curl_multi_cleanup(multi.pointer)
                return
            }
            var running: Int32 = 0
            curl_multi_perform(multi.pointer, &running)
            var left: Int32 = 0
            while let message = curl_multi_info_read(multi.pointer, &left) {
                guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
                let code = message.pointee.data.result
                curl_multi_remove_handle(multi.pointer, easy)
                if let transfer = active.removeValue(forKey: easy) {
                    finish(transfer, transfer.outcome(code))
                }
            }
            // curl shortens the wait to its own next timer; new transfers and shutdown
            // wake it (curl_multi_wakeup). An idle client thus sleeps a minute at a time.
            curl_multi_poll(multi.pointer, nil, 0, 60_000, nil)
        }
    }

    private func finish(_ transfer: Transfer, _ result: Result<HTTPResponse, HTTPClientError>) {
        transfer.release()
        guard let continuation = transfer.continuation else { return }
        transfer.continuation = nil
        continuation.resume(with: result.mapError { $0 as any Error })
    }
}
