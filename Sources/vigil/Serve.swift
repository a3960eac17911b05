import ArgumentParser
import VigilServer
import VigilStore

import Foundation

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the server on the embedded store.")

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = 9200
    @Option(help: "Data directory.") var data = "./vigil-data"

    func run() async throws {
        let store: Store
        do {
            store = try Store(directory: data)
        } catch {
            FileHandleOutput.stderr("vigil: cannot open data directory \(data): \(error)\n")
            throw ExitCode(1)
        }
        let server = VigilServer(store: store, host: host, port: port)
        let host = self.host
        let data = self.data
        try await server.run { bound in
            FileHandle.standardOutput.write(Data("vigil listening on http://\(host):\(bound) (data in \(data))\n".utf8))
        }
    }
}

enum FileHandleOutput {
    static func stderr(_ s: String) {
        FileHandle.standardError.write(Data(s.utf8))
    }
}
