import Foundation
import VigilJSON
import VigilStore

/// A fresh data directory removed when the test ends.
final class TempDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "vigil-test-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }
}

func source(_ json: String) -> [UInt8] { Array(json.utf8) }

func indexOp(_ id: String?, _ json: String, create: Bool = false) -> WriteOperation {
    .index(id: id, source: source(json), create: create, ifSeqNo: nil, ifPrimaryTerm: nil)
}

func parse(_ s: String) throws -> JSONValue { try JSONParser().parse(s) }
