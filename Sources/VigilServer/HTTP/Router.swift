/// Routes requests by method and path segments; `{x}` segments capture.
struct Router: Sendable {
    typealias Handler = @Sendable (ESRequest, [String]) async throws -> ESResponse

    struct Route: Sendable {
        var pattern: [String]
        var handlers: [String: Handler]
        var literalCount: Int { pattern.filter { !$0.hasPrefix("{") }.count }
    }

    private(set) var routes: [Route] = []

    mutating func add(_ methods: [String], _ path: String, _ handler: @escaping Handler) {
        let pattern = path.split(separator: "/").map(String.init)
        if let i = routes.firstIndex(where: { $0.pattern == pattern }) {
            for m in methods { routes[i].handlers[m] = handler }
        } else {
            var r = Route(pattern: pattern, handlers: [:])
            for m in methods { r.handlers[m] = handler }
            routes.append(r)
            routes.sort { $0.literalCount > $1.literalCount }
        }
    }

    enum Match {
        case found(Handler, [String])
        case wrongMethod(allowed: [String])
        case none
    }

    func match(method: String, segments: [String]) -> Match {
        var allowed: [String]?
        for r in routes where r.pattern.count == segments.count {
            var captures: [String] = []
            var ok = true
            var loose = false
            for (p, s) in zip(r.pattern, segments) {
                if p.hasPrefix("{") {
                    // A capture never takes an endpoint name such as `_search`, except for ids.
                    if s.hasPrefix("_") && p != "{id}" && p != "{name}" { ok = false; break }
                    if s.hasPrefix("_") && p == "{name}" { loose = true }
                    captures.append(s)
                } else if p != s {
                    ok = false
                    break
                }
            }
            guard ok else { continue }
            if let h = r.handlers[method] { return .found(h, captures) }
            // `/_unknown` is no index name to offer methods for.
            if !loose { allowed = Array(Set((allowed ?? []) + r.handlers.keys)).sorted() }
        }
        if let allowed { return .wrongMethod(allowed: allowed) }
        return .none
    }
}
