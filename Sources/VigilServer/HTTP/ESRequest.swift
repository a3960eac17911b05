import VigilJSON

/// An HTTP request as the handlers see it: method, decoded path segments, query parameters and body bytes.
struct ESRequest: Sendable {
    var method: String
    var rawPath: String
    var segments: [String]
    var params: [String: String]
    var body: [UInt8]
    var contentType: String?
    var accept: String?

    init(method: String, uri: String, body: [UInt8], contentType: String?, accept: String?) {
        self.method = method
        self.body = body
        self.contentType = contentType
        self.accept = accept
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        rawPath = String(parts.first ?? "/")
        segments = rawPath.split(separator: "/").map { ESRequest.percentDecode(String($0)) }
        params = [:]
        if parts.count > 1 {
            for pair in parts[1].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                let key = ESRequest.percentDecode(String(kv[0]), plusIsSpace: true)
                params[key] = kv.count > 1 ? ESRequest.percentDecode(String(kv[1]), plusIsSpace: true) : ""
            }
        }
    }

    static func percentDecode(_ s: String, plusIsSpace: Bool = false) -> String {
        guard s.contains("%") || (plusIsSpace && s.contains("+")) else { return s }
        var out: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "%"), i + 2 < u.count, let h = hexValue(u[i + 1]), let l = hexValue(u[i + 2]) {
                out.append(h << 4 | l)
                i += 3
            } else if plusIsSpace && u[i] == UInt8(ascii: "+") {
                out.append(0x20)
                i += 1
            } else {
                out.append(u[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func percentEncode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            let c = Character(Unicode.Scalar(b))
            if b < 0x80 && (c.isLetter || c.isNumber || "-_.~".contains(c)) {
                out.append(c)
            } else {
                out += "%" + String(b, radix: 16, uppercase: true).leftPad2
            }
        }
        return out
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: return c - 0x30
        case 0x41...0x46: return c - 0x41 + 10
        case 0x61...0x66: return c - 0x61 + 10
        default: return nil
        }
    }

    var hasBody: Bool { body.contains { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 } }

    /// The body parsed as one JSON object; nil when there is no body.
    func jsonBody() throws(RequestError) -> JSONObject? {
        guard hasBody else { return nil }
        let value: JSONValue
        do {
            value = try JSONParser().parse(body)
        } catch {
            throw RequestError.badJSON(error)
        }
        guard case .object(let o) = value else {
            throw RequestError.parsing("request body must be a JSON object, found [\(value.tokenName)]")
        }
        return o
    }

    func flag(_ name: String, default def: Bool = false) throws(RequestError) -> Bool {
        guard let v = params[name] else { return def }
        switch v {
        case "", "true": return true
        case "false": return false
        default: throw RequestError.illegalArgument("Failed to parse value [\(v)] as only [true] or [false] are allowed.")
        }
    }

    func int(_ name: String) throws(RequestError) -> Int? {
        guard let v = params[name] else { return nil }
        guard let i = Int(v) else {
            throw RequestError.illegalArgument("Failed to parse int parameter [\(name)] with value [\(v)]")
        }
        return i
    }

    /// The `compatible-with=N` version the client asked for, if any.
    var compatibleWith: String? {
        for h in [accept, contentType] {
            guard let h, h.contains("vnd.elasticsearch") else { continue }
            if let r = h.range(of: "compatible-with=") {
                let digits = h[r.upperBound...].prefix { $0.isNumber }
                if !digits.isEmpty { return String(digits) }
            }
        }
        return nil
    }
}

extension String {
    func range(of needle: String) -> Range<String.Index>? {
        guard !needle.isEmpty else { return nil }
        var i = startIndex
        while i < endIndex {
            if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
            i = index(after: i)
        }
        return nil
    }
}

extension String {
    var leftPad2: String { count < 2 ? "0" + self : self }
}
