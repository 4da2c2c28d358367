import AccordCore
import AccordStore
import Testing

@testable import AccordSync

@Suite("Differ")
struct DifferTests {
    let a = RecordKey(kind: "news", id: "a")
    let b = RecordKey(kind: "news", id: "b")
    let v1: JSONObject = ["headline": .string("one")]
    let v2: JSONObject = ["headline": .string("two")]

    func base(_ key: RecordKey, _ fields: JSONObject, deleted: Bool = false) -> BaseSnapshot {
        BaseSnapshot(key: key, rev: "1-\(key.id)", deleted: deleted, fields: fields)
    }

    func pending(_ key: RecordKey, _ kind: OutboxOperation.Kind, _ fields: JSONObject?) -> OutboxOperation {
        OutboxOperation(
            seq: 1, key: key, kind: kind, baseRev: nil, fields: fields, idempotencyKey: "k", attempts: 0, nextAttemptAt: 0, lastError: nil, changedAt: 0)
    }

    @Test func newChangedUnchangedAndDeleted() {
        let changes = Differ.changes(
            scanned: [a: v2, RecordKey(kind: "news", id: "new"): v1], present: [a, RecordKey(kind: "news", id: "new"), RecordKey(kind: "news", id: "same")],
            protected: [], held: [],
            bases: [a: base(a, v1), b: base(b, v1), RecordKey(kind: "news", id: "same"): base(RecordKey(kind: "news", id: "same"), v1)], pending: [:])
        #expect(changes.map(\.key.id) == ["a", "b", "new"])
        #expect(changes[0].operation == .upsert(v2) && changes[0].baseRev == "1-a")
        #expect(changes[1].operation == .delete && changes[1].baseRev == "1-b")
        #expect(changes[2].operation == .upsert(v1) && changes[2].baseRev == nil)
    }

    @Test func aMovedRecordIsNoChange() {
        // The record left one file (now changed) for another: it is scanned and present.
        #expect(Differ.changes(scanned: [a: v1], present: [a], protected: [], held: [], bases: [a: base(a, v1)], pending: [:]).isEmpty)
    }

    @Test func aBrokenFileIsNotADeletion() {
        #expect(Differ.changes(scanned: [:], present: [], protected: [a], held: [], bases: [a: base(a, v1)], pending: [:]).isEmpty)
    }

    @Test func heldRecordsAreLeftAlone() {
        #expect(Differ.changes(scanned: [a: v2], present: [a], protected: [], held: [a], bases: [a: base(a, v1)], pending: [:]).isEmpty)
        #expect(Differ.changes(scanned: [:], present: [], protected: [], held: [a], bases: [a: base(a, v1)], pending: [:]).isEmpty)
    }

    @Test func waitingOperationsAreNotRepeated() {
        #expect(Differ.changes(scanned: [a: v2], present: [a], protected: [], held: [], bases: [a: base(a, v1)], pending: [a: pending(a, .put, v2)]).isEmpty)
        #expect(Differ.changes(scanned: [:], present: [], protected: [], held: [], bases: [a: base(a, v1)], pending: [a: pending(a, .delete, nil)]).isEmpty)
        // A newer edit replaces the waiting one.
        let newer: JSONObject = ["headline": .string("three")]
        #expect(
            Differ.changes(scanned: [a: newer], present: [a], protected: [], held: [], bases: [a: base(a, v1)], pending: [a: pending(a, .put, v2)]).count == 1)
    }

    @Test func recreatingAfterADeleteUsesTheTombstoneRev() {
        let changes = Differ.changes(scanned: [a: v1], present: [a], protected: [], held: [], bases: [a: base(a, v1, deleted: true)], pending: [:])
        #expect(changes.first?.baseRev == "1-a")
        #expect(changes.first?.operation == .upsert(v1))
    }

    @Test func deletedOnBothSidesIsNoChange() {
        #expect(Differ.changes(scanned: [:], present: [], protected: [], held: [], bases: [a: base(a, v1, deleted: true)], pending: [:]).isEmpty)
    }
}
