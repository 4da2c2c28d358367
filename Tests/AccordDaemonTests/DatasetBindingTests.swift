import Testing

@testable import AccordDaemon

/// The start-up decision that keeps one root on one dataset (CONTRACT 8.1).
@Suite struct DatasetBindingTests {
    @Test func aFreshStateRecordsTheConfiguredDataset() {
        #expect(DatasetBinding.decide(recorded: nil, hasSynced: false, configured: "press") == .record)
        #expect(DatasetBinding.decide(recorded: nil, hasSynced: false, configured: "default") == .record)
    }

    @Test func aStateFromBeforeDatasetsSyncedWithDefault() {
        #expect(DatasetBinding.decide(recorded: nil, hasSynced: true, configured: "default") == .record)
        #expect(DatasetBinding.decide(recorded: nil, hasSynced: true, configured: "press") == .refuse(recorded: "default"))
    }

    @Test func aRecordedDatasetMustStayTheSame() {
        #expect(DatasetBinding.decide(recorded: "press", hasSynced: true, configured: "press") == .matches)
        #expect(DatasetBinding.decide(recorded: "press", hasSynced: false, configured: "press") == .matches)
        #expect(DatasetBinding.decide(recorded: "press", hasSynced: true, configured: "hns") == .refuse(recorded: "press"))
        // Before anything synced or was queued, a change of mind costs nothing.
        #expect(DatasetBinding.decide(recorded: "press", hasSynced: false, configured: "hns") == .record)
    }

    @Test func theRefusalSaysWhatToDoOnOneLine() {
        let config = DaemonConfig(file: "/etc/accord/accordd.toml")
        let line = DatasetBinding.refusal(recorded: "press", configured: "hns", config: config)
        #expect(!line.contains("\n"))
        #expect(line.contains("dataset \"press\"") && line.contains("dataset = \"hns\"") && line.contains("/etc/accord/accordd.toml"))
        #expect(line.contains("Set dataset = \"press\" back") && line.contains("move \(config.state)"))
    }
}
