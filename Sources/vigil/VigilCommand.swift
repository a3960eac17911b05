import ArgumentParser

@main
struct VigilCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "Vigil: a security analytics engine that speaks the Elasticsearch REST API.",
        subcommands: [Serve.self, Ingest.self, Hunt.self, Rules.self, Generate.self, Version.self]
    )
}
