import AccordSync
import Testing

@Suite struct DeleteGuardTests {
    @Test func nothingToDeleteIsAlwaysAllowed() {
        #expect(DeleteGuard.check(deletions: 0, liveRecords: 100, rootReadable: false, rootEmpty: true, maxDeletePercent: 50) == .allow)
    }

    @Test func aMissingOrEmptyRootHoldsEvenOneDeletion() {
        #expect(DeleteGuard.check(deletions: 1, liveRecords: 1, rootReadable: false, rootEmpty: true, maxDeletePercent: 100) != .allow)
        #expect(DeleteGuard.check(deletions: 2, liveRecords: 2, rootReadable: true, rootEmpty: true, maxDeletePercent: 100) != .allow)
    }

    @Test func deletingTheOneLastRecordIsAllowed() {
        #expect(DeleteGuard.check(deletions: 1, liveRecords: 1, rootReadable: true, rootEmpty: true, maxDeletePercent: 50) == .allow)
    }

    @Test func thePercentageNeedsAtLeastTenDeletions() {
        // 9 of 10 is 90%, but fewer than 10 records never trip the percentage rule.
        #expect(DeleteGuard.check(deletions: 9, liveRecords: 10, rootReadable: true, rootEmpty: false, maxDeletePercent: 50) == .allow)
        #expect(DeleteGuard.check(deletions: 10, liveRecords: 19, rootReadable: true, rootEmpty: false, maxDeletePercent: 50) != .allow)
        #expect(DeleteGuard.check(deletions: 10, liveRecords: 20, rootReadable: true, rootEmpty: false, maxDeletePercent: 50) == .allow)
        #expect(DeleteGuard.check(deletions: 10, liveRecords: 1000, rootReadable: true, rootEmpty: false, maxDeletePercent: 0) != .allow)
    }
}
