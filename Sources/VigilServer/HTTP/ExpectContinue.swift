import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `Expect: 100-continue` with `100 Continue` as soon as the request head arrives, as
/// Elasticsearch does, so a client holding back its body (curl does for every body over 1 MB)
/// sends it at once instead of waiting a second. A head whose `Content-Length` is over the limit
/// gets no `100`: the responder refuses it with 413 before any of the body is read.
final class ExpectContinueHandler: ChannelInboundHandler, RemovableChannelHandler {
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
}
