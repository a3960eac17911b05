package import VigilJSON

package enum StoredJSON {
    /// Parses a file the store wrote itself; a failure means the file is corrupt.
    package static func read(_ path: String) throws(StoreError) -> JSONValue {
        let bytes = try FileIO.read(path)
        do {
            return try JSONParser().parse(bytes)
        } catch {
            throw StoreError(.internal, "corrupt file [\(path)]: \(error)")
        }
    }
}
