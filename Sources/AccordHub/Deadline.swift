import NIOCore
import NIOPosix
import Synchronization

/// Runs an operation for at most a given time: past it the caller gets
/// `DeadlineExceeded` at once and the operation is cancelled, so a request waiting on
/// an unreachable database ends in a 503 the client retries, not in a hung
/// connection. The caller does not wait for the operation to notice the cancellation
/// (a query already sent does not); the connection's server-side timeouts end it.
///
/// Every storage call on PostgreSQL goes through here, so it is kept cheap: the clock
/// is a task scheduled on an event loop (a heap entry, cancelled when the operation
/// answers), not a sleeping Swift task with a dispatch timer of its own.
enum Deadline {
    static func run<T: Sendable>(seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.waiter.withLock { $0 = continuation }
                // Both handles are in place before either side can look for the
                // other: a quick answer always cancels the clock.
                race.handles.withLock { handles in
                    handles.clock = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: .milliseconds(Int64(seconds * 1000))) {
                        race.finish(.failure(DeadlineExceeded(seconds: seconds)))
                        race.handles.withLock { $0.work?.cancel() }
                    }
                    handles.work = Task {
                        do {
                            race.finish(.success(try await operation()))
                        } catch {
                            race.finish(.failure(error))
                        }
                        race.handles.withLock { $0.clock?.cancel() }
                    }
                }
            }
        } onCancel: {
            race.handles.withLock { $0.work?.cancel() }
        }
    }

    /// The operation against the clock: the first to finish answers the caller.
    private final class Race<T: Sendable>: Sendable {
        let waiter = Mutex<CheckedContinuation<T, any Error>?>(nil)
        let handles = Mutex<(work: Task<Void, Never>?, clock: Scheduled<Void>?)>((nil, nil))

        func finish(_ result: Result<T, any Error>) {
            waiter.withLock { continuation in
                continuation?.resume(with: result)
                continuation = nil
            }
        }
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "no answer from the database within \(seconds) s" }
}
