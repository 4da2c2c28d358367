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
                // Blocks its thread for 5 s and never looks at cancellation.
                _ = DispatchSemaphore(value: 0).wait(timeout: .now() + 5)
                return 1
            }
        }
        #expect(Date().timeIntervalSince(start) < 4, "the caller waited for the operation")
    }

    @Test func aQuickOperationAnswersWithItsValueOrError() async throws {
        #expect(try await Deadline.run(seconds: 5) { 42 } == 42)
        await #expect(throws: CancellationError.self) { try await Deadline.run(seconds: 5) { throw CancellationError() } }
    }
}
