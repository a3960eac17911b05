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

    init(maxContentLength: Int) { self.maxContentLength = maxContentLength }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
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
        let (status, type, reason): (HTTPResponse.Status, String, String) = switch parse {
        case .headerOverflow:
            (.requestHeaderFieldsTooLarge, "too_long_http_header_exception", "HTTP header is larger than the limit of \(VigilServer.maxHeaderBytes) bytes")
        default:
            (.badRequest, "illegal_argument_exception", "malformed HTTP request: \(parse)")
        }
        let cause: JSONValue = ["type": .string(type), "reason": .string(reason)]
        let body = JSONWriter().encode(["error": ["root_cause": [cause], "type": .string(type), "reason": .string(reason)], "status": .int(Int64(status.code))])
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.count)
        fields[.connection] = "close"
        fields[HTTPField.Name("X-Elastic-Product")!] = "Elasticsearch"
        context.write(NIOAny(HTTPResponsePart.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(NIOAny(HTTPResponsePart.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        context.writeAndFlush(NIOAny(HTTPResponsePart.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
