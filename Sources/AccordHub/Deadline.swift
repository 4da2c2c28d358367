/// Runs an operation for at most a given time: past it the operation is cancelled and
/// `DeadlineExceeded` thrown, so a request waiting on an unreachable database ends in
/// a 503 the client retries, not in a hung connection.
enum Deadline {
    static func run<T: Sendable>(seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
                throw DeadlineExceeded(seconds: seconds)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw DeadlineExceeded(seconds: seconds) }
            return first
        }
    }
}

struct DeadlineExceeded: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "no answer from the database within \(seconds) s" }
}
