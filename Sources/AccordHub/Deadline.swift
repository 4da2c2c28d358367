import Synchronization

/// Runs an operation for at most a given time: past it the caller gets
/// `DeadlineExceeded` at once and the operation is cancelled, so a request waiting on
/// an unreachable database ends in a 503 the client retries, not in a hung
/// connection. The caller does not wait for the operation to notice the cancellation
/// (a query already sent does not); the connection's server-side timeouts end it.
enum Deadline {
    static func run<T: Sendable>(seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let race = Race<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                race.waiter.withLock { $0 = continuation }
                let timer = Task {
                    try? await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                    guard !Task.isCancelled else { return }
                    race.finish(.failure(DeadlineExceeded(seconds: seconds)))
                    race.tasks.withLock { $0.work?.cancel() }
                }
                let work = Task {
                    do {
                        race.finish(.success(try await operation()))
                    } catch {
                        race.finish(.failure(error))
                    }
                    race.tasks.withLock { $0.timer?.cancel() }
                }
                race.tasks.withLock { $0 = (work, timer) }
            }
        } onCancel: {
            race.tasks.withLock { $0.work?.cancel() }
        }
    }

    /// The operation against the clock: the first to finish answers the caller.
    private final class Race<T: Sendable>: Sendable {
        let waiter = Mutex<CheckedContinuation<T, any Error>?>(nil)
        let tasks = Mutex<(work: Task<Void, Never>?, timer: Task<Void, Never>?)>((nil, nil))

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
