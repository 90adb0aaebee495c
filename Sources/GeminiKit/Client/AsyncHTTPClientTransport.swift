import AsyncHTTPClient
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Sends requests with async-http-client: pooled connections, HTTP/2 where the server offers it,
/// deadlines, and a byte limit on every body it collects.
///
/// The library's shared client keeps at most 8 HTTP/1.1 connections per host, which at 20 s a call
/// caps a run at 24 images a minute whatever `--concurrency` says (measured). Onbrand's client
/// allows as many connections as the run has calls in flight.
public struct AsyncHTTPClientTransport: Transport {
    /// HTTP/1.1 connections per host at most (the rate limiter caps calls in flight below this).
    public static let maximumConnectionsPerHost = 512

    /// One client for the process, like `HTTPClient.shared`, never shut down.
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration.singletonConfiguration
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: maximumConnectionsPerHost)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public init() {}

    public func send(_ request: HTTPRequestMessage, timeout: Duration, maximumResponseSize: Int) async throws -> HTTPResponseMessage {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for (name, value) in request.headers { outgoing.headers.add(name: name, value: value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        let amount = TimeAmount.nanoseconds(Int64(seconds * 1e9))
        do {
            let response = try await Self.client.execute(outgoing, timeout: amount)
            let body = try await response.body.collect(upTo: maximumResponseSize)
            // `.noCopy` hands the collected buffer's storage to Data: a 4K answer is 30 MB of base64.
            let data = body.getData(at: body.readerIndex, length: body.readableBytes, byteTransferStrategy: .noCopy) ?? Data()
            return HTTPResponseMessage(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: data)
        } catch let error as HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout, .writeTimeout: throw TransportError.timedOut
            default: throw TransportError.connection(String(describing: error))
            }
        } catch let error as NIOTooManyBytesError {
            _ = error
            throw TransportError.responseTooLarge(limit: maximumResponseSize)
        } catch let error as TransportError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            throw TransportError.connection(String(describing: error))
        }
    }
}
