import AccordCLI
import AccordCore
import AccordFiles
import ArgumentParser

/// `accordctl resolve KIND/ID --keep local|remote|FILE`: settle one conflict.
struct ResolveCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve", abstract: "Settle a record's open conflict.",
        discussion: """
            --keep local keeps your values of the conflicting fields, --keep remote the hub's; \
            --keep FILE takes the whole record from a .json file. The result is written into \
            the root and pushed.
            """)

    @OptionGroup var control: ControlOptions
    @Argument(help: "The record, KIND/ID.")
    var record: String
    @Option(help: "local, remote, or a .json file holding the record to keep.")
    var keep: String

    func validate() throws {
        _ = try RecordArgument.key(record)
    }

    func run() async throws {
        let key = try RecordArgument.key(record)
        var body: JSONObject
        switch keep {
        case "local", "remote":
            body = ["keep": .string(keep)]
        default:
            body = ["keep": .string("record"), "fields": .object(try readRecord(keep, key: key))]
        }
        let client = try ControlClient(control)
        let reply = try await client.send("POST", "/v1/conflicts/\(key.kind)/\(key.id)", body: body)
        guard reply.status == 200 else { throw client.failure(reply) }
        CommandRunner.printOutput("resolved \(key): \(reply.json["resolved"]?.inline ?? "")")
    }

    private func readRecord(_ path: String, key: RecordKey) throws -> JSONObject {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readRegularFile(path, maxBytes: RecordFileParser.defaultMaxRecordBytes)
        } catch {
            throw CommandStatus.usage("accordctl: --keep \(path): \(error.reason); give local, remote or a .json record file")
        }
        let parsed = RecordFileParser.parse(path: path, bytes: bytes, format: .json, maxRecordBytes: RecordFileParser.defaultMaxRecordBytes)
        if let problem = parsed.problems.first { throw CommandStatus.usage("accordctl: \(problem)") }
        let found = parsed.records[0].record
        guard found.key == key else { throw CommandStatus.usage("accordctl: \(path) holds \(found.key), not \(key)") }
        return found.fields
    }
}
