import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import VigilJSON

/// The first handler after HTTP decoding: what is answered before a request reaches the router.
///
/// - `Expect: 100-continue` gets `100 Continue` as soon as the head arrives, as Elasticsearch
///   does, so a client holding back its body (curl does for every body over 1 MB) sends it at
///   once instead of waiting a second. A head whose `Content-Length` is over the limit gets no
///   `100`: the responder refuses it with 413 before any of the body is read.
/// - A head the decoder cannot take (headers over the size limit, a malformed request line) is
///   answered in Elasticsearch's error shape (431 for oversized headers, 400 otherwise) and the
///   connection closed, instead of an empty 400.
final class HTTPDoorHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    let maxContentLength: Int
    /// Placed in front of the HTTP decoder to watch request lines in the raw bytes.
    private let lines = RequestLineGuard()

    init(maxContentLength: Int) { self.maxContentLength = maxContentLength }

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.pipeline.syncOperations.addHandler(lines, position: .first)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After a request, the next bytes start a request line again.
        if case .end = unwrapInboundIn(data) { lines.awaitingLine = true }
        if case .head(let head) = unwrapInboundIn(data),
           head.headerFields[.expect]?.lowercased() == "100-continue" {
            let length = head.headerFields[.contentLength].flatMap { Int($0) } ?? 0
            if length <= maxContentLength {
                context.writeAndFlush(NIOAny(HTTPResponsePart.head(HTTPResponse(status: .continue))), promise: nil)
            }
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parse = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        switch parse {
        case .headerOverflow:
            lines.answerAndClose(status: 431, phrase: "Request Header Fields Too Large", type: "too_long_http_header_exception",
                                           reason: "HTTP header is larger than the limit of \(VigilServer.maxHeaderBytes) bytes", kibana: false)
        default:
            lines.answerAndClose(status: 400, phrase: "Bad Request", type: "illegal_argument_exception",
                                           reason: "malformed HTTP request: \(parse)", kibana: false)
        }
    }

}

/// Refuses a request line over `http.max_initial_line_length` with 414, as Elasticsearch does,
/// before the HTTP decoder buffers it (the decoder would only see oversized headers). It sits
/// first in the pipeline and looks at raw bytes while a request line is expected: at the start
/// of the connection and after each request ends (pipelined bytes already read are left to the
/// decoder's own limit).
final class RequestLineGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    var awaitingLine = true
    private var seen = 0
    /// The first bytes of the line, enough to tell Kibana's API from Elasticsearch's.
    private var start: [UInt8] = []
    private var refused = false
    private var answered = false
    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refused { return }
        if awaitingLine {
            let buffer = unwrapInboundIn(data)
            let view = buffer.readableBytesView
            if start.count < 24 { start += view.prefix(24 - start.count) }
            if let newline = view.firstIndex(of: UInt8(ascii: "\n")) {
                seen += newline - buffer.readerIndex
                awaitingLine = false
            } else {
                seen += buffer.readableBytes
            }
            if seen > VigilServer.maxRequestLine {
                let kibana = String(decoding: start, as: UTF8.self).split(separator: " ").dropFirst().first.map {
                    $0.hasPrefix("/api/") || $0.hasPrefix("/internal/")
                } ?? false
                let reason = "An HTTP line is larger than \(VigilServer.maxRequestLine) bytes."
                answerAndClose(status: 414, phrase: "URI Too Long", type: "too_long_http_line_exception", reason: reason, kibana: kibana)
                return
            }
            if !awaitingLine {
                seen = 0
                start = []
            }
        }
        context.fireChannelRead(data)
    }

    /// Writes an error response as raw bytes, straight to the socket (the HTTP codec cannot
    /// take a response for a request it could not decode), stops writing, and closes once the
    /// client has stopped sending or after 10 s: closing at once, with the client's bytes
    /// unread, would reset the connection before the client reads the answer.
    func answerAndClose(status: Int, phrase: String, type: String, reason: String, kibana: Bool) {
        guard let context, !answered else { return }
        answered = true
        refused = true
        let body: [UInt8]
        if kibana {
            body = JSONWriter().encode(["statusCode": .int(Int64(status)), "error": .string(phrase), "message": .string(reason)])
        } else {
            let cause: JSONValue = ["type": .string(type), "reason": .string(reason)]
            body = JSONWriter().encode(["error": ["root_cause": [cause], "type": .string(type), "reason": .string(reason)], "status": .int(Int64(status))])
        }
        let head = "HTTP/1.1 \(status) \(phrase)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\nX-Elastic-Product: Elasticsearch\r\n\r\n"
        var out = context.channel.allocator.buffer(capacity: head.utf8.count + body.count)
        out.writeString(head)
        out.writeBytes(body)
        // Written from the front of the pipeline, past the HTTP encoder.
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: .seconds(10)) { channel.close(promise: nil) }
        }
    }
}
