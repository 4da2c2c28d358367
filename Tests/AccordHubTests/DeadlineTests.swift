import Dispatch
import Foundation
import Testing

@testable import AccordHub

/// The deadline on storage calls answers at its time even when the operation does
/// not notice its cancellation (a query already sent to PostgreSQL does not).
@Suite struct DeadlineTests {
    @Test func anOperationThatIgnoresCancellationStillEndsAtTheDeadline() async throws {
        let start = Date()
        await #expect(throws: DeadlineExceeded.self) {
            try await Deadline.run(seconds: 0.2) {
                // Ends after 60 s whatever happens, without holding a thread (as a
                // query already sent to PostgreSQL does).
                await withCheckedContinuation { continuation in DispatchQueue.global().asyncAfter(deadline: .now() + 60) { continuation.resume() } }
                return 1
            }
        }
        // Far below the operation's 60 s, with room for a loaded machine.
        #expect(Date().timeIntervalSince(start) < 30, "the caller waited for the operation")
    }

    @Test func aQuickOperationAnswersWithItsValueOrError() async throws {
        #expect(try await Deadline.run(seconds: 5) { 42 } == 42)
        await #expect(throws: CancellationError.self) { try await Deadline.run(seconds: 5) { throw CancellationError() } }
    }
}
