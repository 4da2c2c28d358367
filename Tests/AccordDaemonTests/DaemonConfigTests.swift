import AccordConfig
import AccordCore
import AccordTestSupport
import Testing

@testable import AccordDaemon

@Suite struct DaemonConfigTests {
    func parse(_ text: String) throws(ConfigError) -> DaemonConfig {
        try DaemonConfigLoader.parse(text, file: "/etc/accord/accordd.toml")
    }

    func message(_ text: String) -> String {
        do {
            _ = try parse(text)
            return "no error"
        } catch {
            return error.description
        }
    }

    @Test func anEmptyFileGivesTheContractsDefaults() throws {
        let config = try parse("")
        #expect(config.root == "/var/lib/accord/records")
        #expect(config.remote == "http://127.0.0.1:8480" && config.dataset == "default")
        #expect(config.state == "/var/lib/accord/state.db")
        #expect(config.debounceMilliseconds == 5 && config.rescanIntervalSeconds == 3600)
        #expect(config.conflictPolicy == .merge && config.maxDeletePercent == 50 && config.maxRecordBytes == 1_048_576)
        #expect(config.retryBaseDelayMilliseconds == 100 && config.retryMaxDelayMilliseconds == 30_000)
        #expect(config.controlSocket == "/run/accord/control.sock" && config.metricsListen.isEmpty)
        #expect(config.logLevel == "info" && config.logFormat == "text")
    }

    @Test func theExampleConfigParsesAndMatchesTheDefaults() throws {
        let path = BuiltProducts.repositoryRoot + "/config/accordd.toml"
        var example = try DaemonConfigLoader.load(path)
        example.file = "/etc/accord/accordd.toml"
        #expect(example == (try parse("")))
    }

    @Test func everyKeyIsRead() throws {
        let config = try parse(
            """
            root = "/r"
            remote = "https://hub.example:8443"
            dataset = "press-2026"
            token_file = "/t"
            schemas = "/s"
            state = "/st.db"
            debounce_ms = 20
            rescan_interval_s = 60
            conflict_policy = "prefer-remote"
            max_record_bytes = 4096
            max_delete_percent = 10
            ignore = ["drafts/**", "*.bak"]
            [retry]
            base_delay_ms = 5
            max_delay_ms = 50
            [control]
            socket = "/c.sock"
            [tls]
            ca_file = "/ca.pem"
            client_cert = "/c.pem"
            client_key = "/k.pem"
            [metrics]
            listen = "127.0.0.1:9480"
            [log]
            level = "debug"
            format = "json"
            """)
        #expect(config.root == "/r" && config.remote == "https://hub.example:8443" && config.tokenFile == "/t")
        #expect(config.dataset == "press-2026")
        #expect(try parse("remote = [\"http://a:8480\", \"https://b:8443\"]").remotes == ["http://a:8480", "https://b:8443"])
        #expect(try parse("remote = [\"http://a:8480\", \"https://b:8443\"]").remote == "http://a:8480")
        #expect(config.debounceMilliseconds == 20 && config.conflictPolicy == .preferRemote && config.ignore == ["drafts/**", "*.bak"])
        #expect(config.retryBaseDelayMilliseconds == 5 && config.controlSocket == "/c.sock" && config.tlsClientKey == "/k.pem")
        #expect(config.metricsListen == "127.0.0.1:9480" && config.logLevel == "debug" && config.logFormat == "json")
    }

    @Test(arguments: [
        ("rooot = \"/x\"", "unknown key rooot"),
        ("[retry]\nbase_delay = 1", "unknown key retry.base_delay"),
        ("[log]\ncolour = true", "unknown key log.colour"),
        ("debounce_ms = \"5\"", "debounce_ms must be an integer, not a string"),
        ("root = 5", "root must be a string, not an integer"),
        ("ignore = \"*.bak\"", "ignore must be an array of strings"),
        ("ignore = [1]", "ignore must be an array of strings"),
        ("retry = 5", "[retry] must be a table"),
        ("conflict_policy = \"mine\"", "conflict_policy \"mine\" is not one of"),
        ("max_delete_percent = 150", "max_delete_percent must be between 0 and 100"),
        ("dataset = \"Press\"", "dataset \"Press\" must match ^[a-z0-9][a-z0-9_-]{0,63}$"),
        ("dataset = \"a/b\"", "dataset \"a/b\" must match"),
        ("dataset = \"\"", "dataset \"\" must match"),
        ("remote = []", "remote must be a URL or a non-empty array of URLs"),
        ("remote = [\"http://a\", 5]", "remote must be a URL or a non-empty array of URLs"),
        ("remote = [\"http://a\", \"ftp://b\"]", "remote must be an http:// or https:// URL, not \"ftp://b\""),
        ("remote = \"ftp://x\"", "remote must be an http:// or https:// URL"),
        ("[log]\nlevel = \"loud\"", "log.level \"loud\" is not one of"),
        ("[log]\nformat = \"xml\"", "log.format \"xml\" is not text or json"),
        ("[tls]\nclient_cert = \"/c\"", "tls.client_cert and tls.client_key must be given together"),
        ("root = ", "invalid TOML"),
    ])
    func badConfigsNameTheKeyAndTheFile(text: String, expected: String) {
        let line = message(text)
        #expect(line.hasPrefix("/etc/accord/accordd.toml"), "\(line)")
        #expect(line.contains(expected), "\(line)")
        #expect(!line.contains("\n"))
    }
}
