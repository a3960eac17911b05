/// Field types the store maps and indexes.
public enum FieldType: String, Sendable, CaseIterable {
    case keyword, text, wildcard
    case constantKeyword = "constant_keyword"
    case matchOnlyText = "match_only_text"
    case long, integer, short, byte
    case unsignedLong = "unsigned_long"
    case double, float
    case halfFloat = "half_float"
    case scaledFloat = "scaled_float"
    case boolean, date
    case dateNanos = "date_nanos"
    case ip, object, nested, flattened, alias, version
    case geoPoint = "geo_point"
    case binary

    /// How values of this type are kept in a segment column.
    public var storage: ColumnKind {
        switch self {
        case .keyword, .text, .wildcard, .constantKeyword, .matchOnlyText, .version, .flattened, .geoPoint, .binary:
            return .string
        case .long, .integer, .short, .byte, .unsignedLong: return .int64
        case .double, .float, .halfFloat, .scaledFloat: return .double
        case .boolean: return .bool
        case .date, .dateNanos: return .date
        case .ip: return .ip
        case .object, .nested, .alias: return .none
        }
    }

    public var isStringLike: Bool { storage == .string }
    public var isNumeric: Bool { storage == .int64 || storage == .double }
}

/// The physical layout of a column.
public enum ColumnKind: String, Sendable {
    case string, int64, double, bool, date, ip, none
}
