import CZlib
import Foundation

/// Writes real PNG images (RGB, 8 bits) of any size in bounded memory: rows are deflated one at a
/// time through zlib, so a 12288×1536 image needs one row of memory, not 56 MB.
enum PNGEncoder {
    struct Color: Hashable {
        var red: UInt8
        var green: UInt8
        var blue: UInt8

        /// `#RRGGBB` → colour; `nil` for anything else.
        init?(hex: String) {
            let digits = hex.dropFirst()
            guard hex.hasPrefix("#"), digits.count == 6, let value = UInt32(digits, radix: 16) else { return nil }
            red = UInt8(value >> 16 & 0xFF)
            green = UInt8(value >> 8 & 0xFF)
            blue = UInt8(value & 0xFF)
        }

        init(red: UInt8, green: UInt8, blue: UInt8) {
            self.red = red
            self.green = green
            self.blue = blue
        }
    }

    /// An image of horizontal bands, one per colour, with a centred block in the first colour
    /// standing in for the product. `grain` (0 to 127) adds repeatable per-pixel noise of that
    /// amplitude, so the file compresses like a photograph (about 1.5 MB at 1K with 6) rather than
    /// a flat drawing (7 KB).
    static func bands(width: Int, height: Int, colors: [Color], grain: Int = 0) -> Data {
        let palette = colors.isEmpty ? [Color(red: 0xF2, green: 0xEE, blue: 0xE8), Color(red: 0x2E, green: 0x51, blue: 0x40)] : colors
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = Data()
        header.appendBigEndian(UInt32(width))
        header.appendBigEndian(UInt32(height))
        header += Data([8, 2, 0, 0, 0])  // 8-bit depth, RGB, deflate, no filter method extras, no interlace
        appendChunk("IHDR", header, to: &png)
        appendChunk("IDAT", deflateRows(width: width, height: height, palette: palette, grain: min(max(grain, 0), 127)), to: &png)
        appendChunk("IEND", Data(), to: &png)
        return png
    }

    private static func deflateRows(width: Int, height: Int, palette: [Color], grain: Int) -> Data {
        var stream = z_stream()
        // Noise does not compress whatever the effort: level 1 for grain keeps 4K images quick.
        deflateInit_(&stream, grain > 0 ? 1 : 6, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
        var noise: UInt64 = 0x2545_F491_4F6C_DD1D
        @inline(__always) func jitter(_ value: UInt8) -> UInt8 {
            noise ^= noise << 13
            noise ^= noise >> 7
            noise ^= noise << 17
            let offset = Int(noise % UInt64(2 * grain + 1)) - grain
            return UInt8(clamping: Int(value) + offset)
        }
        defer { deflateEnd(&stream) }
        var output = Data()
        var row = [UInt8](repeating: 0, count: 1 + width * 3)
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        let bandHeight = max(height / palette.count, 1)
        let block = (x: width / 3, y: height / 3, width: width / 3, height: height / 3)
        for y in 0..<height {
            let band = palette[min(y / bandHeight, palette.count - 1)]
            let inBlock = y >= block.y && y < block.y + block.height
            for x in 0..<width {
                let color = inBlock && x >= block.x && x < block.x + block.width ? palette[0] : band
                if grain > 0 {
                    row[1 + x * 3] = jitter(color.red)
                    row[2 + x * 3] = jitter(color.green)
                    row[3 + x * 3] = jitter(color.blue)
                } else {
                    row[1 + x * 3] = color.red
                    row[2 + x * 3] = color.green
                    row[3 + x * 3] = color.blue
                }
            }
            let isLast = y == height - 1
            row.withUnsafeMutableBufferPointer { input in
                stream.next_in = input.baseAddress
                stream.avail_in = UInt32(input.count)
                repeat {
                    buffer.withUnsafeMutableBufferPointer { out in
                        stream.next_out = out.baseAddress
                        stream.avail_out = UInt32(out.count)
                        deflate(&stream, isLast ? Z_FINISH : Z_NO_FLUSH)
                        output.append(out.baseAddress!, count: out.count - Int(stream.avail_out))
                    }
                } while stream.avail_out == 0 || (isLast && stream.avail_in > 0)
            }
        }
        return output
    }

    private static func appendChunk(_ type: String, _ data: Data, to png: inout Data) {
        png.appendBigEndian(UInt32(data.count))
        let typeBytes = Data(type.utf8)
        png += typeBytes
        png += data
        var crc = crc32(0, nil, 0)
        typeBytes.withUnsafeBytes { crc = crc32(crc, $0.bindMemory(to: UInt8.self).baseAddress, UInt32($0.count)) }
        data.withUnsafeBytes { bytes in
            if bytes.count > 0 { crc = crc32(crc, bytes.bindMemory(to: UInt8.self).baseAddress, UInt32(bytes.count)) }
        }
        png.appendBigEndian(UInt32(crc))
    }

    /// Width and height from a PNG's IHDR, for tests and checks.
    static func dimensions(of png: Data) -> (width: Int, height: Int)? {
        guard png.count >= 24, png.starts(with: [0x89, 0x50, 0x4E, 0x47]) else { return nil }
        func uint32(_ offset: Int) -> Int {
            png[png.startIndex + offset..<png.startIndex + offset + 4].reduce(0) { $0 << 8 | Int($1) }
        }
        return (uint32(16), uint32(20))
    }
}

extension Data {
    fileprivate mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }
}
