public import Foundation
import CZlib

/// What an image file is and carries, read from its header and metadata blocks (no pixels).
public struct ImageInfo: Sendable, Hashable {
    public enum Format: String, Sendable, Codable {
        case png, jpeg, webp, unknown
    }

    public var format: Format
    public var width: Int?
    public var height: Int?
    /// The XMP packet, when there is one.
    public var xmp: String?
    /// Whether a C2PA manifest store is present (PNG `caBX`, JPEG APP11 JUMBF).
    public var hasC2PA: Bool
}

/// Why an image could not be read or rewritten.
public struct ImageFileError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// Reads and writes the metadata blocks of PNG and JPEG files, leaving every other byte as it was
/// (pixels, colour profiles, C2PA manifests).
public enum ImageContainer {
    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    static let xmpKeyword = "XML:com.adobe.xmp"
    static let jpegXMPNamespace = Array("http://ns.adobe.com/xap/1.0/\u{0}".utf8)

    public static func format(of data: Data) -> ImageInfo.Format {
        if data.starts(with: pngSignature) { return .png }
        if data.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if data.count >= 12, data.starts(with: Array("RIFF".utf8)), data.dropFirst(8).starts(with: Array("WEBP".utf8)) { return .webp }
        return .unknown
    }

    public static func info(of data: Data) throws(ImageFileError) -> ImageInfo {
        switch format(of: data) {
        case .png:
            let chunks = try PNGChunks.parse(data)
            var info = ImageInfo(format: .png, hasC2PA: chunks.contains { $0.type == "caBX" })
            if let header = chunks.first(where: { $0.type == "IHDR" }), header.data.count >= 8 {
                info.width = Int(header.data.bigEndianUInt32(at: 0))
                info.height = Int(header.data.bigEndianUInt32(at: 4))
            }
            info.xmp = chunks.lazy.compactMap(PNGChunks.xmpText).first
            return info
        case .jpeg:
            let segments = try JPEGSegments.parse(data)
            var info = ImageInfo(format: .jpeg, hasC2PA: segments.contains { $0.marker == 0xEB })
            info.xmp = segments.lazy.compactMap(JPEGSegments.xmpText).first
            if let frame = segments.first(where: { (0xC0...0xCF).contains($0.marker) && ![0xC4, 0xC8, 0xCC].contains($0.marker) }),
                frame.payload.count >= 5
            {
                info.height = Int(frame.payload.bigEndianUInt16(at: 1))
                info.width = Int(frame.payload.bigEndianUInt16(at: 3))
            }
            return info
        case .webp, .unknown:
            return ImageInfo(format: format(of: data), hasC2PA: false)
        }
    }

    /// The file with `packet` as its XMP, replacing any XMP it had; other blocks are kept as they were.
    public static func embedding(xmp packet: String, in data: Data) throws(ImageFileError) -> Data {
        switch format(of: data) {
        case .png: return try PNGChunks.embedding(xmp: packet, in: data)
        case .jpeg: return try JPEGSegments.embedding(xmp: packet, in: data)
        case .webp, .unknown: throw ImageFileError(reason: "only PNG and JPEG files can carry Onbrand's XMP")
        }
    }
}

/// PNG's chunk layer: length, type, data, CRC.
enum PNGChunks {
    struct Chunk {
        var type: String
        var data: Data
        /// The chunk as it was in the file (length, type, data, CRC), copied back unchanged.
        var raw: Data?
    }

    static func parse(_ data: Data) throws(ImageFileError) -> [Chunk] {
        var chunks: [Chunk] = []
        var offset = 8
        let bytes = [UInt8](data)
        while offset + 12 <= bytes.count {
            let length = Int(Data(bytes[offset..<offset + 4]).bigEndianUInt32(at: 0))
            guard length <= bytes.count - offset - 12 else {
                throw ImageFileError(reason: "the PNG chunk at byte \(offset) claims \(length) bytes, past the end of the file")
            }
            let type = String(decoding: bytes[offset + 4..<offset + 8], as: UTF8.self)
            chunks.append(Chunk(type: type, data: Data(bytes[offset + 8..<offset + 8 + length]), raw: Data(bytes[offset..<offset + 12 + length])))
            offset += 12 + length
            if type == "IEND" { break }
        }
        guard chunks.first?.type == "IHDR" else { throw ImageFileError(reason: "not a PNG: no IHDR chunk first") }
        guard chunks.last?.type == "IEND" else {
            throw ImageFileError(reason: "the PNG ends at byte \(bytes.count) before its IEND chunk: the file is cut short")
        }
        return chunks
    }

    /// The text of an `iTXt` chunk with the XMP keyword (uncompressed, as XMP requires).
    static func xmpText(_ chunk: Chunk) -> String? {
        guard chunk.type == "iTXt" else { return nil }
        let bytes = [UInt8](chunk.data)
        guard let keywordEnd = bytes.firstIndex(of: 0), String(decoding: bytes[..<keywordEnd], as: UTF8.self) == ImageContainer.xmpKeyword,
            keywordEnd + 2 < bytes.count, bytes[keywordEnd + 1] == 0
        else { return nil }
        // Skip the compression flag and method, then the language tag and translated keyword.
        var index = keywordEnd + 3
        for _ in 0..<2 {
            guard let end = bytes[index...].firstIndex(of: 0) else { return nil }
            index = end + 1
        }
        return String(decoding: bytes[index...], as: UTF8.self)
    }

    static func embedding(xmp packet: String, in data: Data) throws(ImageFileError) -> Data {
        let chunks = try parse(data)
        var itxt = Data(ImageContainer.xmpKeyword.utf8)
        itxt += [0, 0, 0, 0, 0]  // end of keyword, not compressed, method 0, empty language, empty translated keyword
        itxt += Data(packet.utf8)
        var output = Data(ImageContainer.pngSignature)
        var placed = false
        for chunk in chunks where xmpText(chunk) == nil {
            // XMP goes before the image data, where readers that stop at IDAT still find it.
            if !placed, chunk.type == "IDAT" || chunk.type == "IEND" {
                append(Chunk(type: "iTXt", data: itxt), to: &output)
                placed = true
            }
            append(chunk, to: &output)
        }
        return output
    }

    static func append(_ chunk: Chunk, to output: inout Data) {
        if let raw = chunk.raw {
            output += raw
            return
        }
        output.appendBigEndian(UInt32(chunk.data.count))
        let typeAndData = Data(chunk.type.utf8) + chunk.data
        output += typeAndData
        let crc = typeAndData.withUnsafeBytes { raw in
            crc32(0, raw.bindMemory(to: UInt8.self).baseAddress, UInt32(raw.count))
        }
        output.appendBigEndian(UInt32(crc))
    }
}

/// JPEG's segment layer up to the start of scan; the entropy-coded data after it is copied as is.
enum JPEGSegments {
    struct Segment {
        var marker: UInt8
        /// The bytes after the length field.
        var payload: Data
    }

    /// The segments before SOS, and the offset where SOS starts.
    static func parse(_ data: Data) throws(ImageFileError) -> [Segment] { try split(data).segments }

    static func split(_ data: Data) throws(ImageFileError) -> (segments: [Segment], scanStart: Int) {
        let bytes = [UInt8](data)
        var segments: [Segment] = []
        var offset = 2
        while offset + 4 <= bytes.count {
            guard bytes[offset] == 0xFF else { throw ImageFileError(reason: "the JPEG has no marker at byte \(offset)") }
            let marker = bytes[offset + 1]
            if marker == 0xFF {
                offset += 1
                continue
            }
            if marker == 0xDA { return (segments, offset) }
            let length = Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
            guard length >= 2, offset + 2 + length <= bytes.count else {
                throw ImageFileError(reason: "the JPEG segment at byte \(offset) runs past the end of the file")
            }
            segments.append(Segment(marker: marker, payload: Data(bytes[offset + 4..<offset + 2 + length])))
            offset += 2 + length
        }
        throw ImageFileError(reason: "the JPEG ends before its image data (no SOS marker)")
    }

    static func xmpText(_ segment: Segment) -> String? {
        guard segment.marker == 0xE1, segment.payload.starts(with: ImageContainer.jpegXMPNamespace) else { return nil }
        return String(decoding: segment.payload.dropFirst(ImageContainer.jpegXMPNamespace.count), as: UTF8.self)
    }

    static func embedding(xmp packet: String, in data: Data) throws(ImageFileError) -> Data {
        let (segments, scanStart) = try split(data)
        let payload = Data(ImageContainer.jpegXMPNamespace) + Data(packet.utf8)
        guard payload.count + 2 <= 0xFFFF else {
            throw ImageFileError(reason: "the XMP packet is \(payload.count) bytes; a JPEG APP1 segment holds at most 65,533")
        }
        var output = Data([0xFF, 0xD8])
        var placed = false
        for segment in segments where xmpText(segment) == nil {
            // After JFIF/EXIF (APP0, APP1), before everything else, as XMP readers expect.
            if !placed, segment.marker != 0xE0, segment.marker != 0xE1 {
                append(Segment(marker: 0xE1, payload: payload), to: &output)
                placed = true
            }
            append(segment, to: &output)
        }
        if !placed { append(Segment(marker: 0xE1, payload: payload), to: &output) }
        output += data[(data.startIndex + scanStart)...]
        return output
    }

    static func append(_ segment: Segment, to output: inout Data) {
        output += [0xFF, segment.marker]
        let length = segment.payload.count + 2
        output += [UInt8(length >> 8), UInt8(length & 0xFF)]
        output += segment.payload
    }
}

extension Data {
    func bigEndianUInt32(at offset: Int) -> UInt32 {
        let start = startIndex + offset
        return self[start..<start + 4].reduce(0) { $0 << 8 | UInt32($1) }
    }

    func bigEndianUInt16(at offset: Int) -> UInt16 {
        let start = startIndex + offset
        return UInt16(self[start]) << 8 | UInt16(self[start + 1])
    }

    mutating func appendBigEndian(_ value: UInt32) {
        append(contentsOf: [UInt8(value >> 24 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)])
    }
}
