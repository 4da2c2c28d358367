import AccordCLI

/// `accord-sync`'s entry point: a synchronous `main` that runs the command at the default
/// priority (see `CommandRunner.mainAtDefaultPriority`).
@main
enum AccordSyncMain {
    static func main() {
        CommandRunner.mainAtDefaultPriority(AccordSyncCommand.self)
    }
}
