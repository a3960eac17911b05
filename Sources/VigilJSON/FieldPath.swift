/// Field paths where dotted keys and nested objects name the same field:
/// `{"process":{"name":"x"}}` and `{"process.name":"x"}` both have `process.name`.
public enum FieldPath {
    /// The values at `path`, looking through dotted keys, nested objects and arrays of objects.
    public static func values(at path: String, in value: JSONValue) -> [JSONValue] {
        var out: [JSONValue] = []
        collect(path[...], in: value, into: &out)
        return out
    }

    /// The single value at `path`, or nil when absent; the first one when multi-valued.
    public static func value(at path: String, in value: JSONValue) -> JSONValue? {
        values(at: path, in: value).first
    }

    private static func collect(_ path: Substring, in value: JSONValue, into out: inout [JSONValue]) {
        switch value {
        case .array(let items):
            for item in items { collect(path, in: item, into: &out) }
        case .object(let o):
            for e in o.entries {
                if e.key == path {
                    out.append(e.value)
                } else if path.hasPrefix(e.key), path[path.index(path.startIndex, offsetBy: e.key.count)] == "." {
                    let rest = path[path.index(path.startIndex, offsetBy: e.key.count + 1)...]
                    collect(rest, in: e.value, into: &out)
                }
            }
        default:
            return
        }
    }

    /// Calls `visit` for each leaf (non-object value) with its full dotted path; arrays are
    /// passed whole at their path, with arrays of objects descended into.
    public static func forEachLeaf(of object: JSONObject, prefix: String = "", _ visit: (String, JSONValue) throws -> Void) rethrows {
        for e in object.entries {
            let path = prefix.isEmpty ? e.key : prefix + "." + e.key
            switch e.value {
            case .object(let inner):
                try forEachLeaf(of: inner, prefix: path, visit)
            default:
                try visit(path, e.value)
            }
        }
    }
}
