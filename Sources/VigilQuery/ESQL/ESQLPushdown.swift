import VigilJSON
import VigilStore

/// The conditions of a query's leading WHERE commands that the segment filter can answer on
/// columns (and share through the leaf cache), as one query: `field == literal`, `IN`, `LIKE`,
/// comparisons with literals, `IS NOT NULL`, `KQL()`, and ANDs and ORs of those, on keyword,
/// numeric, date, IP and boolean fields. Every row still passes the whole WHERE afterwards:
/// what is pushed down may only keep more documents than the WHERE would, never fewer (so no
/// NOT, whose three-valued meaning differs from must_not, and no text fields).
enum ESQLPushdown {
    static func filter(_ q: ESQLQuery, mapping: Mapping, now: Int64) -> Expr? {
        var clauses: [JSONValue] = []
        // Columns an EVAL defined or MV_EXPAND split are not the documents' fields any more.
        var defined = Set<String>()
        scan: for c in q.commands {
            switch c {
            case .where(let e):
                for part in conjuncts(e) where reads(part).isDisjoint(with: defined) {
                    if let j = json(part, mapping) { clauses.append(j) }
                }
            case .eval(let assignments): defined.formUnion(assignments.map(\.name))
            case .mvExpand, .keep, .drop, .sort: continue
            default: break scan
            }
        }
        if clauses.isEmpty { return nil }
        return try? QueryDSL(mapping: mapping, now: now).translate(["bool": ["filter": .array(clauses)]])
    }

    static func reads(_ e: ESQLExpr) -> Set<String> {
        var out = Set<String>()
        e.visit { x in
            switch x {
            case .field(let f), .match(let f, _): out.insert(f)
            default: break
            }
        }
        return out
    }

    static func conjuncts(_ e: ESQLExpr) -> [ESQLExpr] {
        if case .binary(.and, let a, let b) = e { return conjuncts(a) + conjuncts(b) }
        return [e]
    }

    static func exact(_ field: String, _ mapping: Mapping) -> Bool {
        guard let f = mapping.field(at: field) else { return false }
        switch f.type {
        case .keyword, .constantKeyword, .long, .integer, .short, .byte, .double, .float, .halfFloat, .scaledFloat, .date, .ip, .boolean: return true
        default: return false
        }
    }

    static func literal(_ e: ESQLExpr) -> JSONValue? {
        guard case .literal(let l) = e else { return nil }
        switch l {
        case .bool(let b): return .bool(b)
        case .int(let i): return .int(i)
        case .double(let d): return .double(d)
        case .string(let s): return .string(s)
        default: return nil
        }
    }

    static func json(_ e: ESQLExpr, _ mapping: Mapping) -> JSONValue? {
        switch e {
        case .binary(.or, let a, let b):
            guard let x = json(a, mapping), let y = json(b, mapping) else { return nil }
            return ["bool": ["should": [x, y], "minimum_should_match": 1]]
        case .binary(.and, let a, let b):
            let parts = [a, b].compactMap { json($0, mapping) }
            return parts.isEmpty ? nil : ["bool": ["filter": .array(parts)]]
        case .binary(let op, .field(let f), let r) where exact(f, mapping):
            guard let v = literal(r) else { return nil }
            switch op {
            case .eq: return ["term": [f: v]]
            case .lt: return ["range": [f: ["lt": v]]]
            case .lte: return ["range": [f: ["lte": v]]]
            case .gt: return ["range": [f: ["gt": v]]]
            case .gte: return ["range": [f: ["gte": v]]]
            default: return nil
            }
        case .in(.field(let f), let list, false) where exact(f, mapping):
            let values = list.compactMap(literal)
            return values.count == list.count ? ["terms": [f: .array(values)]] : nil
        case .like(.field(let f), let patterns, false, false) where exact(f, mapping) && mapping.field(at: f)?.type == .keyword:
            return ["bool": ["should": .array(patterns.map { ["wildcard": [f: ["value": .string($0)]]] }), "minimum_should_match": 1]]
        case .isNull(.field(let f), true) where mapping.field(at: f) != nil:
            return ["exists": ["field": .string(f)]]
        case .call("KQL", let args):
            guard case .literal(.string(let text))? = args.first else { return nil }
            return ["kql": ["query": .string(text)]]
        default:
            return nil
        }
    }
}
