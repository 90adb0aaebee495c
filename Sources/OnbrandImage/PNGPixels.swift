import CZlib
import Foundation

/// Streams a PNG's rows as 8-bit RGB through zlib's inflater, one row in memory at a time, so a
/// 4K image is read in kilobytes, not 50 MB.
///
/// Reads 8-bit greyscale, RGB, palette, grey+alpha and RGBA images, not interlaced (what image
/// models return); anything else is an ``ImageFileError`` that says which.
enum PNGPixels {
    static func forEachRow(_ data: Data, _ body: (_ y: Int, _ rgb: UnsafeBufferPointer<UInt8>) -> Void) throws(ImageFileError) -> (width: Int, height: Int) {
        let chunks = try PNGChunks.parse(data)
        let header = chunks[0].data
        guard header.count >= 13 else { throw ImageFileError(reason: "the PNG header is too short") }
        let width = Int(header.bigEndianUInt32(at: 0)), height = Int(header.bigEndianUInt32(at: 4))
        let depth = header[header.startIndex + 8], colorType = header[header.startIndex + 9], interlace = header[header.startIndex + 12]
        let channels: Int
        switch colorType {
        case 0: channels = 1
        case 2: channels = 3
        case 3: channels = 1
        case 4: channels = 2
        case 6: channels = 4
        default: throw ImageFileError(reason: "PNG colour type \(colorType) is not one PNG defines")
        }
        guard depth == 8 else { throw ImageFileError(reason: "only 8-bit PNGs are measured (this one has \(depth) bits per sample)") }
        guard interlace == 0 else { throw ImageFileError(reason: "interlaced PNGs are not measured") }
        guard width > 0, height > 0, width <= 1 << 15, height <= 1 << 15 else {
            throw ImageFileError(reason: "the PNG claims \(width)×\(height) pixels")
        }
        let palette = chunks.first { $0.type == "PLTE" }.map { [UInt8]($0.data) } ?? []
        if colorType == 3, palette.isEmpty { throw ImageFileError(reason: "a palette PNG without a PLTE chunk") }

        let stride = width * channels
        var previous = [UInt8](repeating: 0, count: stride)
        var current = [UInt8](repeating: 0, count: stride + 1)
        var rgb = [UInt8](repeating: 0, count: width * 3)
        var filled = 0
        var y = 0

        var stream = z_stream()
        guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ImageFileError(reason: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var failure: ImageFileError?
        outer: for chunk in chunks where chunk.type == "IDAT" {
            var input = [UInt8](chunk.data)
            let status: Int32 = input.withUnsafeMutableBufferPointer { input in
                stream.next_in = input.baseAddress
                stream.avail_in = UInt32(input.count)
                while stream.avail_in > 0, y < height {
                    let produced: Int32 = current.withUnsafeMutableBufferPointer { row in
                        stream.next_out = row.baseAddress! + filled
                        stream.avail_out = UInt32(row.count - filled)
                        let result = inflate(&stream, Z_NO_FLUSH)
                        filled = row.count - Int(stream.avail_out)
                        return result
                    }
                    if produced != Z_OK && produced != Z_STREAM_END && produced != Z_BUF_ERROR { return produced }
                    if filled == current.count {
                        guard unfilter(&current, previous: previous, bytesPerPixel: channels) else { return Z_DATA_ERROR }
                        toRGB(current, channels: channels, colorType: colorType, palette: palette, into: &rgb)
                        rgb.withUnsafeBufferPointer { body(y, $0) }
                        previous.withUnsafeMutableBufferPointer { previous in
                            current.withUnsafeBufferPointer { previous.baseAddress!.update(from: $0.baseAddress! + 1, count: stride) }
                        }
                        filled = 0
                        y += 1
                    }
                    if produced == Z_STREAM_END || (produced == Z_BUF_ERROR && stream.avail_in == 0) { break }
                }
                return Z_OK
            }
            if status != Z_OK {
                failure = ImageFileError(reason: "the PNG's image data is corrupt (zlib status \(status))")
                break outer
            }
        }
        if let failure { throw failure }
        guard y == height else { throw ImageFileError(reason: "the PNG's image data ends after \(y) of \(height) rows") }
        return (width, height)
    }

    /// Undoes the row's filter (PNG filter method 0) in place; false for an unknown filter type.
    private static func unfilter(_ row: inout [UInt8], previous: [UInt8], bytesPerPixel: Int) -> Bool {
        let filter = row[0]
        let count = row.count - 1
        switch filter {
        case 0: return true
        case 1:
            if count > bytesPerPixel {
                for i in bytesPerPixel..<count { row[i + 1] = row[i + 1] &+ row[i + 1 - bytesPerPixel] }
            }
        case 2:
            for i in 0..<count { row[i + 1] = row[i + 1] &+ previous[i] }
        case 3:
            for i in 0..<count {
                let left = i >= bytesPerPixel ? Int(row[i + 1 - bytesPerPixel]) : 0
                row[i + 1] = row[i + 1] &+ UInt8((left + Int(previous[i])) / 2)
            }
        case 4:
            for i in 0..<count {
                let a = i >= bytesPerPixel ? Int(row[i + 1 - bytesPerPixel]) : 0
                let b = Int(previous[i])
                let c = i >= bytesPerPixel ? Int(previous[i - bytesPerPixel]) : 0
                let p = a + b - c
                let (pa, pb, pc) = (abs(p - a), abs(p - b), abs(p - c))
                let predictor = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c)
                row[i + 1] = row[i + 1] &+ UInt8(predictor)
            }
        default: return false
        }
        return true
    }

    private static func toRGB(_ row: [UInt8], channels: Int, colorType: UInt8, palette: [UInt8], into rgb: inout [UInt8]) {
        let width = rgb.count / 3
        for x in 0..<width {
            let source = 1 + x * channels
            switch colorType {
            case 0, 4:
                rgb[x * 3] = row[source]
                rgb[x * 3 + 1] = row[source]
                rgb[x * 3 + 2] = row[source]
            case 3:
                let index = Int(row[source]) * 3
                if index + 2 < palette.count {
                    rgb[x * 3] = palette[index]
                    rgb[x * 3 + 1] = palette[index + 1]
                    rgb[x * 3 + 2] = palette[index + 2]
                }
            default:
                rgb[x * 3] = row[source]
                rgb[x * 3 + 1] = row[source + 1]
                rgb[x * 3 + 2] = row[source + 2]
            }
        }
    }
}
