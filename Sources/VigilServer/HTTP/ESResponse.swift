import VigilJSON

/// A response before it is written: status, and a JSON body or text.
struct ESResponse: Sendable {
    enum Body: Sendable {
        case json(JSONValue)
        case text(String)
        /// JSON already written compactly; used only when neither `pretty` nor `filter_path` is asked for.
        case rawJSON([UInt8])
        case empty
    }

    var status: Int
    var body: Body
    var headers: [(String, String)] = []
    var isError: Bool { status >= 400 }

    static func json(_ value: JSONValue, status: Int = 200, headers: [(String, String)] = []) -> ESResponse {
        ESResponse(status: status, body: .json(value), headers: headers)
    }
    static func text(_ s: String, status: Int = 200) -> ESResponse { ESResponse(status: status, body: .text(s)) }
    static func empty(_ status: Int) -> ESResponse { ESResponse(status: status, body: .empty) }

    static let acknowledged = ESResponse.json(["acknowledged": true])

    static func error(_ e: any ElasticsearchError) -> ESResponse { .json(ErrorBody.full(e), status: e.status) }
}
