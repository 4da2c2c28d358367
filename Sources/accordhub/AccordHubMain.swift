import AccordCLI

/// `accordhub`'s entry point: a synchronous `main` that runs the command at the default
/// priority (see `CommandRunner.mainAtDefaultPriority`).
@main
enum AccordHubMain {
    static func main() {
        CommandRunner.mainAtDefaultPriority(AccordHubCommand.self)
    }
}
