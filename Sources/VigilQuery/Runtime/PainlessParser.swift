extension PainlessScript {
    /// A recursive-descent parser for the subset `PainlessScript` runs.
    struct Parser {
        private let b: [UInt8]
        private var i = 0
        /// Open nestings (blocks, parentheses, ternaries, unary operators) and operator chains are
        /// bounded, so no script exhausts the stack when parsed or run.
        private var depth = 0
        private static let maxDepth = 200
        private static let maxChain = 1024

        private mutating func enter() throws(ScriptError) {
            depth += 1
            if depth > Parser.maxDepth { throw error("script nested more than \(Parser.maxDepth) levels deep") }
        }

        init(_ bytes: [UInt8]) { b = bytes }

        private func error(_ message: String) -> ScriptError {
            ScriptError(phase: "compile error", message: "\(message) at offset \(i)")
        }

        private mutating func skip() {
            while i < b.count {
                if b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 {
                    i += 1
                } else if b[i] == UInt8(ascii: "/"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "/") {
                    while i < b.count && b[i] != 0x0A { i += 1 }
                } else if b[i] == UInt8(ascii: "/"), i + 1 < b.count, b[i + 1] == UInt8(ascii: "*") {
                    i += 2
                    while i + 1 < b.count && !(b[i] == UInt8(ascii: "*") && b[i + 1] == UInt8(ascii: "/")) { i += 1 }
                    i += 2
                } else {
                    return
                }
            }
        }

        private mutating func eat(_ s: String) -> Bool {
            skip()
            let u = Array(s.utf8)
            guard i + u.count <= b.count, b[i..<(i + u.count)].elementsEqual(u) else { return false }
            // A word must end where it ends (`iffy` is not `if`).
            if let last = u.last, isWord(last), i + u.count < b.count, isWord(b[i + u.count]) { return false }
            i += u.count
            return true
        }

        private mutating func expect(_ s: String) throws(ScriptError) {
            if !eat(s) { throw error("expected [\(s)]") }
        }

        private func isWord(_ c: UInt8) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x5F || c == 0x24
        }

        private mutating func identifier() -> String? {
            skip()
            guard i < b.count, isWord(b[i]), !(b[i] >= 0x30 && b[i] <= 0x39) else { return nil }
            let start = i
            while i < b.count && isWord(b[i]) { i += 1 }
            return String(decoding: b[start..<i], as: UTF8.self)
        }

        mutating func script() throws(ScriptError) -> [Statement] {
            var out: [Statement] = []
            skip()
            while i < b.count {
                out.append(contentsOf: try statement())
                skip()
            }
            return out
        }

        private static let declarations: Set<String> = ["def", "var", "String", "long", "int", "double", "float", "boolean", "Object", "short", "byte", "char"]

        private mutating func block() throws(ScriptError) -> [Statement] {
            try enter()
            defer { depth -= 1 }
            if eat("{") {
                var out: [Statement] = []
                while !eat("}") {
                    skip()
                    if i >= b.count { throw error("expected [}]") }
                    out.append(contentsOf: try statement())
                }
                return out
            }
            return try statement()
        }

        private mutating func statement() throws(ScriptError) -> [Statement] {
            if eat(";") { return [] }
            if eat("{") {
                i -= 1
                return try block()
            }
            if eat("if") {
                try expect("(")
                let c = try expression()
                try expect(")")
                let yes = try block()
                let no = eat("else") ? try block() : []
                return [.ifElse(c, yes, no)]
            }
            if eat("return") {
                _ = eat(";")
                return [.ret]
            }
            if eat("emit") {
                try expect("(")
                let e = try expression()
                try expect(")")
                _ = eat(";")
                return [.emit(e)]
            }
            let save = i
            if let word = identifier() {
                if Parser.declarations.contains(word), let name = identifier() {
                    try expect("=")
                    let e = try expression()
                    _ = eat(";")
                    return [.assign(name, e)]
                }
                if eat("="), !eat("=") {
                    let e = try expression()
                    _ = eat(";")
                    return [.assign(word, e)]
                }
            }
            i = save
            throw error("unsupported statement (Vigil runs emit, if/else, local variables and return)")
        }

        mutating func expression() throws(ScriptError) -> Node {
            try enter()
            defer { depth -= 1 }
            let c = try binary(0)
            if eat("?") {
                let a = try expression()
                try expect(":")
                return .ternary(c, a, try expression())
            }
            return c
        }

        private static let levels: [[String]] = [["||"], ["&&"], ["==", "!="], ["<=", ">=", "<", ">"], ["+", "-"], ["*", "/", "%"]]

        private mutating func binary(_ level: Int) throws(ScriptError) -> Node {
            if level == Parser.levels.count { return try unary() }
            var left = try binary(level + 1)
            var chain = 1
            outer: while true {
                for op in Parser.levels[level] {
                    let save = i
                    if eat(op) {
                        // `=` after `<`/`>`/`!`/`=` belongs to the operator already matched; a lone `=` is not `==`.
                        if (op == "<" || op == ">") && i < b.count && b[i] == UInt8(ascii: "=") { i = save; continue }
                        chain += 1
                        if chain > Parser.maxChain { throw error("more than \(Parser.maxChain) operands joined by one operator") }
                        left = .binary(op, left, try binary(level + 1))
                        continue outer
                    }
                }
                return left
            }
        }

        private mutating func unary() throws(ScriptError) -> Node {
            if eat("!") {
                try enter()
                defer { depth -= 1 }
                return .unary("!", try unary())
            }
            if eat("-") {
                try enter()
                defer { depth -= 1 }
                return .unary("-", try unary())
            }
            return try postfix()
        }

        private mutating func postfix() throws(ScriptError) -> Node {
            var n = try primary()
            while true {
                if eat(".") {
                    guard let name = identifier() else { throw error("expected a name after [.]") }
                    if eat("(") {
                        var args: [Node] = []
                        if !eat(")") {
                            repeat { args.append(try expression()) } while eat(",")
                            try expect(")")
                        }
                        n = .call(n, name, args)
                    } else {
                        n = .member(n, name)
                    }
                } else if eat("[") {
                    let key = try expression()
                    try expect("]")
                    n = .index(n, key)
                } else {
                    return n
                }
            }
        }

        private mutating func primary() throws(ScriptError) -> Node {
            skip()
            guard i < b.count else { throw error("unexpected end of script") }
            if eat("(") {
                let e = try expression()
                try expect(")")
                return e
            }
            let c = b[i]
            if c == UInt8(ascii: "'") || c == UInt8(ascii: "\"") {
                i += 1
                var out: [UInt8] = []
                while i < b.count && b[i] != c {
                    if b[i] == UInt8(ascii: "\\"), i + 1 < b.count {
                        i += 1
                        switch b[i] {
                        case UInt8(ascii: "n"): out.append(0x0A)
                        case UInt8(ascii: "t"): out.append(0x09)
                        default: out.append(b[i])
                        }
                    } else {
                        out.append(b[i])
                    }
                    i += 1
                }
                guard i < b.count else { throw error("unterminated string") }
                i += 1
                return .literal(.string(String(decoding: out, as: UTF8.self)))
            }
            if c >= 0x30 && c <= 0x39 {
                let start = i
                var isDouble = false
                while i < b.count && ((b[i] >= 0x30 && b[i] <= 0x39) || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")) {
                    if b[i] == UInt8(ascii: ".") {
                        // `1.toString()` is not a number followed by a method in this subset; `1.5` is.
                        guard i + 1 < b.count, b[i + 1] >= 0x30 && b[i + 1] <= 0x39 else { break }
                        isDouble = true
                    }
                    if b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E") { isDouble = true }
                    i += 1
                }
                let text = String(decoding: b[start..<i], as: UTF8.self)
                if i < b.count, [UInt8(ascii: "L"), UInt8(ascii: "l")].contains(b[i]) { i += 1 }
                if i < b.count, [UInt8(ascii: "d"), UInt8(ascii: "D"), UInt8(ascii: "f"), UInt8(ascii: "F")].contains(b[i]) {
                    i += 1
                    isDouble = true
                }
                if isDouble, let x = Double(text) { return .literal(.double(x)) }
                if let n = Int64(text) { return .literal(.long(n)) }
                throw error("bad number [\(text)]")
            }
            guard let word = identifier() else { throw error("unexpected character [\(String(decoding: [c], as: UTF8.self))]") }
            switch word {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            default: return .name(word)
            }
        }
    }
}
