import ArgumentParser
import VigilStore

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print Vigil's version and the Elasticsearch version it speaks.")

    static let vigilVersion = "0.1.0"

    func run() {
        print("vigil \(Version.vigilVersion) (Elasticsearch API \(ServerInfo.version))")
    }
}
