import CJPEG
import Foundation

/// Streams a JPEG's rows as 8-bit RGB through libjpeg (the `CJPEG` shim), one row at a time.
enum JPEGPixels {
    private final class Sink {
        let body: (Int, UnsafeBufferPointer<UInt8>) -> Void
        init(_ body: @escaping (Int, UnsafeBufferPointer<UInt8>) -> Void) { self.body = body }
    }

    /// Calls `body` for every `step`-th row; returns the image's size.
    static func forEachRow(
        _ data: Data, step: Int = 1, _ body: @escaping (_ y: Int, _ rgb: UnsafeBufferPointer<UInt8>) -> Void
    ) throws(ImageFileError) -> (width: Int, height: Int) {
        let sink = Sink(body)
        var width: Int32 = 0
        var height: Int32 = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = data.withUnsafeBytes { raw -> Int32 in
            guard let base = raw.bindMemory(to: UInt8.self).baseAddress else { return -1 }
            return withExtendedLifetime(sink) {
                onbrand_jpeg_rows(
                    base, raw.count, Int32(step), Unmanaged.passUnretained(sink).toOpaque(),
                    { context, y, rgb, width in
                        let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
                        sink.body(Int(y), UnsafeBufferPointer(start: rgb, count: Int(width) * 3))
                    }, &width, &height, &message, message.count)
            }
        }
        guard status == 0 else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ImageFileError(reason: status < 0 ? "the JPEG is empty" : "the JPEG cannot be decoded: \(text)")
        }
        return (Int(width), Int(height))
    }
}
