/// Errors of the store, each with the Elasticsearch exception type it maps to.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case indexNotFound = "index_not_found_exception"
        case resourceAlreadyExists = "resource_already_exists_exception"
        case invalidIndexName = "invalid_index_name_exception"
        case mapperParsing = "mapper_parsing_exception"
        case illegalArgument = "illegal_argument_exception"
        case versionConflict = "version_conflict_engine_exception"
        case documentMissing = "document_missing_exception"
        case resourceNotFound = "resource_not_found_exception"
        case parsing = "parsing_exception"
        case io = "io_exception"
        /// An index whose files are missing or damaged: reported, never opened, never removed.
        case corrupt = "corrupt_index_exception"
        /// Writes refused while the disk is past the flood-stage watermark (429).
        case clusterBlock = "cluster_block_exception"
        case `internal` = "internal_error"
    }

    public var code: Code
    public var message: String
    /// The index the error concerns, reported as `index` and `index_uuid` by Elasticsearch.
    public var index: String?
    public var causedBy: CausedBy?
    /// A more specific Elasticsearch type name than the code's, e.g. `strict_dynamic_mapping_exception`.
    public var overrideType: String?

    public struct CausedBy: Sendable {
        public var type: String
        public var reason: String
        public init(type: String, reason: String) {
            self.type = type
            self.reason = reason
        }
    }

    public init(_ code: Code, _ message: String, index: String? = nil, causedBy: CausedBy? = nil) {
        self.code = code
        self.message = message
        self.index = index
        self.causedBy = causedBy
    }

    public var description: String { "\(code.rawValue): \(message)" }

    public static func indexNotFound(_ name: String) -> StoreError {
        StoreError(.indexNotFound, "no such index [\(name)]", index: name)
    }
}
