import Logging
import PostgresNIO

extension PostgresClient {
    /// Runs `body` in a READ COMMITTED transaction on one of the pool's connections,
    /// committing if it returns and rolling back if it throws. The isolation level
    /// goes with BEGIN, one round trip: a hub's writes hold their dataset's row lock
    /// for the length of the transaction, so every round trip saved there is time
    /// another hub does not wait. READ COMMITTED whatever the database's default,
    /// since each statement after the lock must see what the writer before committed.
    /// The body's own error is thrown as it is, not wrapped.
    func withReadCommittedTransaction<Result: Sendable>(
        logger: Logger, _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        try await withConnection { connection in
            try await connection.query("BEGIN ISOLATION LEVEL READ COMMITTED", logger: logger)
            let result: Result
            do {
                result = try await body(connection)
            } catch {
                // A connection that cannot roll back is closed by the pool, which
                // ends the transaction on the server as well.
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
            try await connection.query("COMMIT", logger: logger)
            return result
        }
    }
}
