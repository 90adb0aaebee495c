public import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension GenerateContentResponse {
    /// Decodes an answer whose image parts carry megabytes of base64.
    ///
    /// Foundation's JSON scanner walks every string byte by byte, which made it the client's
    /// largest cost after writing files (2.4 MB of base64 per 1K image). Base64 holds no quote and
    /// no backslash, so the image strings are found with `memchr`, cut out, the small remainder is
    /// decoded as usual, and the strings are put back in order. Any surprise (an escape inside a
    /// payload, a count that does not match) falls back to decoding the body whole.
    public static func decodeSplittingImages(_ body: Data, minimumPayload: Int = 64 << 10) throws -> GenerateContentResponse {
        let decoder = WireCoding.decoder()
        guard body.count >= minimumPayload else { return try decoder.decode(Self.self, from: body) }
        let ranges = body.withUnsafeBytes { ImagePayloadSplitter.dataStringRanges(in: $0, minimumLength: minimumPayload) }
        guard let ranges, !ranges.isEmpty else { return try decoder.decode(Self.self, from: body) }

        var skeleton = Data(capacity: body.count - ranges.reduce(0) { $0 + $1.count })
        var cursor = 0
        for range in ranges {
            skeleton += body[body.startIndex + cursor..<body.startIndex + range.lowerBound]
            cursor = range.upperBound
        }
        skeleton += body[(body.startIndex + cursor)...]
        var response = try decoder.decode(Self.self, from: skeleton)

        var payloads = ranges.makeIterator()
        var restored = 0
        for candidate in (response.candidates ?? []).indices {
            for part in (response.candidates?[candidate].content?.parts ?? []).indices
            where response.candidates?[candidate].content?.parts?[part].inlineData?.data.isEmpty == true {
                guard let range = payloads.next() else { return try decoder.decode(Self.self, from: body) }
                let bytes = body[body.startIndex + range.lowerBound..<body.startIndex + range.upperBound]
                response.candidates?[candidate].content?.parts?[part].inlineData?.data = String(decoding: bytes, as: UTF8.self)
                restored += 1
            }
        }
        guard restored == ranges.count else { return try decoder.decode(Self.self, from: body) }
        return response
    }
}

/// Finds the values of `"data"` keys in JSON bytes without looking at every byte of them.
enum ImagePayloadSplitter {
    /// Byte ranges (offsets into `raw`) of the contents of string values of `"data"` keys that are
    /// at least `minimumLength` long and hold no escapes; `nil` when the JSON is not well formed
    /// enough to tell.
    static func dataStringRanges(in raw: UnsafeRawBufferPointer, minimumLength: Int) -> [Range<Int>]? {
        guard let base = raw.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return [] }
        let count = raw.count
        let quote = Int32(UInt8(ascii: "\""))
        func find(_ byte: Int32, from start: Int, to end: Int) -> Int? {
            guard start < end, let found = memchr(base + start, byte, end - start) else { return nil }
            return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
        var ranges: [Range<Int>] = []
        var index = 0
        var afterDataKey = false
        while let open = find(quote, from: index, to: count) {
            // The closing quote is the first one not escaped by an odd run of backslashes.
            var search = open + 1
            var close: Int?
            while let candidate = find(quote, from: search, to: count) {
                var backslashes = 0
                var back = candidate - 1
                while back > open, base[back] == UInt8(ascii: "\\") {
                    backslashes += 1
                    back -= 1
                }
                if backslashes % 2 == 0 {
                    close = candidate
                    break
                }
                search = candidate + 1
            }
            guard let close else { return nil }
            var next = close + 1
            while next < count, base[next] == 0x20 || base[next] == 0x0A || base[next] == 0x0D || base[next] == 0x09 { next += 1 }
            let length = close - open - 1
            if next < count, base[next] == UInt8(ascii: ":") {
                afterDataKey = length == 4 && memcmp(base + open + 1, "data", 4) == 0
            } else {
                if afterDataKey, length >= minimumLength, find(Int32(UInt8(ascii: "\\")), from: open + 1, to: close) == nil {
                    ranges.append((open + 1)..<close)
                }
                afterDataKey = false
            }
            index = close + 1
        }
        return ranges
    }
}
