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
                // Ends after 300 s whatever happens, without holding a thread (as a
                // query already sent to PostgreSQL does).
                await withCheckedContinuation { continuation in DispatchQueue.global().asyncAfter(deadline: .now() + 300) { continuation.resume() } }
                return 1
            }
        }
        // Far below the operation's 300 s, with room for a loaded machine (the whole
        // suite running beside it can keep this test's task from its thread for half
        // a minute).
        #expect(Date().timeIntervalSince(start) < 120, "the caller waited for the operation")
    }

    @Test func aQuickOperationAnswersWithItsValueOrError() async throws {
        // The clock runs on an event loop, the operation on the tasks' threads, which a
        // loaded suite can hold for a while: a deadline no quick operation nears.
        #expect(try await Deadline.run(seconds: 120) { 42 } == 42)
        await #expect(throws: CancellationError.self) { try await Deadline.run(seconds: 120) { throw CancellationError() } }
    }
}
