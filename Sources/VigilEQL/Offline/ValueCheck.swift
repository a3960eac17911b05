import VigilJSON
import VigilQuery
import VigilStore

/// Conditions of an event query decided on an event's projected fields before it is loaded,
/// for the conditions the byte search cannot narrow (a `cidrMatch` on an IP field matches
/// text every event has).
///
/// Only top-level conjuncts whose fields all have a declared type (the offline mapping's IP
/// fields and timestamp) are checked, each as the index would see the value: converted by
/// the mapper, then evaluated by the same `Evaluator` a segment filter uses. An event is left
/// out only when one of them is certainly not true; a multi-valued field, a value the mapper
/// would reject, or anything else unclear loads the event and lets the query decide.
struct ValueCheck {
    private enum Check {
        /// `cidrMatch(field, "a/b", …)`: the value's address against networks parsed once.
        case cidr(String, [CIDR])
        /// Anything else, through the evaluator.
        case general(Expr)
    }

    private let checks: [Check]
    /// The declared type of each field the checks read.
    private let fields: [String: FieldMapping]
    /// Each such field's bit among the projector's paths (`JSONProjector.Span.paths`).
    private let bits: [String: UInt64]

    /// `projected` lists the paths of the projector whose spans `rules` is given, in its order.
    init?(_ statement: EQLStatement, mapping json: JSONObject, options: EQLOptions, projected: [String]) {
        guard case .event(let filter) = statement.query, let mapping = try? Mapping(json: .object(json)) else { return nil }
        var conjuncts: [EQLExpr] = []
        func split(_ e: EQLExpr) {
            if case .and(let a, let b) = e {
                split(a)
                split(b)
            } else {
                conjuncts.append(e)
            }
        }
        split(filter.condition)
        var checks: [Check] = []
        var fields: [String: FieldMapping] = [:]
        for c in conjuncts {
            let alone = EQLStatement(query: .event(EventFilter(category: nil, condition: c, span: filter.span)), pipes: [])
            // Fields the declared mapping lacks make this fail: such conjuncts are not checked.
            guard let plan = try? Analyzer.analyze(alone, mapping: mapping, options: options), case .event(let expr) = plan.kind else { continue }
            for path in expr.fields {
                guard let f = mapping.field(at: path) else { continue }
                fields[path] = f
            }
            if let nets = SegmentFilter.cidrNetworks(expr), case .call(_, let args, _) = expr, case .field(let path) = args[0] {
                checks.append(.cidr(path, nets))
            } else {
                checks.append(.general(expr))
            }
        }
        guard !checks.isEmpty else { return nil }
        self.checks = checks
        self.fields = fields
        var bits: [String: UInt64] = [:]
        // Bit 63 is shared by the 64th path and after: those are not told apart.
        for (i, path) in projected.enumerated() where i < 63 && fields[path] != nil { bits[path] = 1 << UInt64(i) }
        self.bits = bits
    }

    /// Whether the projected event `narrow` (with the projector's `spans`) certainly fails one
    /// of the conditions.
    func rules(out narrow: [UInt8], spans: [JSONProjector.Span]) -> Bool {
        var unclear = false
        /// The raw bytes of the one value at `path`; nil when there is none.
        func raw(_ path: String) -> ArraySlice<UInt8>? {
            guard let bit = bits[path] else {
                unclear = true
                return nil
            }
            var found: ArraySlice<UInt8>?
            for s in spans where s.paths & bit != 0 {
                let bytes = narrow[s.range]
                // Arrays and whole objects hold several values, or values below the path: unclear.
                if s.enclosing || found != nil || bytes.first == UInt8(ascii: "[") || bytes.first == UInt8(ascii: "{") {
                    unclear = true
                    return nil
                }
                found = bytes
            }
            return found
        }
        func value(_ path: String) -> FieldValue? {
            guard let bytes = raw(path), let field = fields[path] else { return nil }
            guard let json = try? JSONParser().parse(Array(bytes)) else {
                unclear = true
                return nil
            }
            guard case .some(let converted) = try? DocumentMapper.convert(json, field, path, docID: "") else {
                unclear = true
                return nil
            }
            return converted
        }
        for c in checks {
            switch c {
            case .cidr(let path, let nets):
                guard let bytes = raw(path) else {
                    if unclear { return false }
                    return true  // no value: cidrMatch gives null
                }
                if bytes.elementsEqual("null".utf8) { return true }
                // A plain string (no escapes) parsed in place; anything else through the mapper.
                var address: IPAddress?
                if bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\""), !bytes.contains(UInt8(ascii: "\\")) {
                    address = bytes.withUnsafeBufferPointer { IPAddress(utf8: UnsafeBufferPointer(rebasing: $0[1..<($0.count - 1)])) }
                } else if case .ip(let a)? = value(path) {
                    address = a
                }
                guard let address else { return false }  // the index would reject it: let it
                if !nets.contains(where: { $0.contains(address) }) { return true }
            case .general(let expr):
                let result = Evaluator().evaluate(expr) { path in value(path).map(SegmentFilter.queryValue) ?? .null }
                if unclear { return false }
                if result != .bool(true) { return true }
            }
        }
        return false
    }
}
