import AccordCore
import AccordTestSupport
import Foundation
import Testing

@testable import AccordHub

@Suite("Hub config and small parsers")
struct HubConfigTests {
    @Test func parsesTheContractExample() throws {
        let config = try HubConfig.parse(
            """
            listen = "127.0.0.1:8480"
            db = "/var/lib/accord/hub.db"    # a SQLite path
            schemas = "/etc/accord/schemas"
            max_body_bytes = 1048576

            [[tokens]]
            name = "alice"
            sha256 = "\(ContentHash.hex("t"))"
            access = "ro"
            """, file: "hub.toml")
        #expect(config.listen == ListenAddress(host: "127.0.0.1", port: 8480))
        #expect(config.maxBodyBytes == 1_048_576)
        #expect(config.tokens == [TokenTable.Entry(name: "alice", sha256: ContentHash.hex("t"), access: .readOnly)])
    }

    @Test func datasetsAndGrantsPerDataset() throws {
        let config = try HubConfig.parse(
            """
            [[datasets]]
            name = "hns"
            schemas = "/srv/hns-schemas"
            [[datasets]]
            name = "press"

            [[tokens]]
            name = "negotiator"
            sha256 = "\(ContentHash.hex("n"))"
            datasets = { hns = "rw", press = "ro" }
            """, file: "hub.toml")
        #expect(config.datasetNames == ["default", "hns", "press"])
        #expect(config.datasets.first?.schemas == "/srv/hns-schemas" && config.datasets.last?.schemas == nil)
        let grant = try #require(config.tokens.first)
        #expect(grant.access(to: "hns") == .readWrite && grant.access(to: "press") == .readOnly && grant.access(to: "default") == nil)
    }

    @Test(
        "bad datasets and grants name the key",
        arguments: [
            ("[[datasets]]\nname = \"HNS\"", "datasets[0].name"),
            ("[[datasets]]\nname = \"a\"\n[[datasets]]\nname = \"a\"", "declared twice"),
            ("[[tokens]]\nname = \"\"\nsha256 = \"\(ContentHash.hex("x"))\"\naccess = \"rw\"", "tokens[0].name is empty"),
            ("[[tokens]]\nname = \"x\"\nsha256 = \"\(ContentHash.hex("x"))\"\ndatasets = { hns = \"rw\" }", "\"hns\", which is not a dataset"),
            (
                "[[datasets]]\nname = \"hns\"\n[[tokens]]\nname = \"x\"\nsha256 = \"\(ContentHash.hex("x"))\"\naccess = \"rw\"\ndatasets = { hns = \"rw\" }",
                "both access and datasets"
            ),
            ("[[datasets]]\nname = \"hns\"\n[[tokens]]\nname = \"x\"\nsha256 = \"\(ContentHash.hex("x"))\"\ndatasets = { hns = \"write\" }", "datasets.hns"),
        ])
    func badDatasets(_ text: String, _ expected: String) {
        #expect {
            try HubConfig.parse(text, file: "hub.toml")
        } throws: { error in
            "\(error)".contains(expected)
        }
    }

    @Test(
        "listen addresses",
        arguments: [
            ("127.0.0.1:8480", "127.0.0.1", 8480, true), ("[::1]:80", "::1", 80, true), ("localhost:0", "localhost", 0, true),
            ("0.0.0.0:8480", "0.0.0.0", 8480, false), ("10.1.2.3:1", "10.1.2.3", 1, false), ("127.9.9.9:5", "127.9.9.9", 5, true),
        ])
    func listenAddresses(_ text: String, _ host: String, _ port: Int, _ loopback: Bool) throws {
        let address = try #require(ListenAddress(text))
        #expect(address.host == host && address.port == port && address.isLoopback == loopback)
    }

    @Test("bad listen addresses", arguments: ["8480", ":8480", "host:", "host:70000", "::1:80", "[::1]80"])
    func badListen(_ text: String) {
        #expect(ListenAddress(text) == nil)
    }

    @Test func etagLists() {
        #expect(ETag.parseList("\"1-a\"") == ["1-a"])
        #expect(ETag.parseList("1-a, \"2-b\"") == ["1-a", "2-b"])
        #expect(ETag.parseList(" * ") == nil)
        #expect(ETag.parseList("W/\"1-a\"") == ["W/1-a"], "weak tags never match a strong rev")
    }

    @Test func revisionIDsCountGenerations() {
        let first = RevisionID.next(after: nil, deleted: false, fieldsJSON: "{}")
        let second = RevisionID.next(after: first, deleted: false, fieldsJSON: "{}")
        #expect(first.hasPrefix("1-") && second.hasPrefix("2-"))
        #expect(first != RevisionID.next(after: nil, deleted: true, fieldsJSON: "{}"))
        #expect(first.count == 18)
    }
}
