/// Reads protocol-buffer wire format: just enough for SentencePiece's `ModelProto`.
///
/// No generated code and no protobuf dependency: the model file needs four field types
/// (varint, 32-bit, 64-bit, length-delimited), and unknown fields are skipped.
struct ProtobufReader {
    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5
    }

    struct Malformed: Error, CustomStringConvertible {
        var offset: Int
        var reason: String
        var description: String { "malformed protobuf at byte \(offset): \(reason)" }
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var offset: Int
    let end: Int

    init(_ bytes: UnsafeRawBufferPointer, range: Range<Int>? = nil) {
        self.bytes = bytes
        offset = range?.lowerBound ?? 0
        end = range?.upperBound ?? bytes.count
    }

    var isAtEnd: Bool { offset >= end }

    mutating func varint() throws(Malformed) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard offset < end else { throw Malformed(offset: offset, reason: "varint runs past the end") }
            let byte = bytes[offset]
            offset += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
            guard shift < 64 else { throw Malformed(offset: offset, reason: "varint longer than 10 bytes") }
        }
    }

    /// The next field's number and wire type, or `nil` at the end.
    mutating func nextField() throws(Malformed) -> (number: Int, type: WireType)? {
        guard !isAtEnd else { return nil }
        let key = try varint()
        guard let type = WireType(rawValue: UInt8(key & 7)) else {
            throw Malformed(offset: offset, reason: "unsupported wire type \(key & 7)")
        }
        return (Int(key >> 3), type)
    }

    /// The byte range of a length-delimited field.
    mutating func lengthDelimited() throws(Malformed) -> Range<Int> {
        let length = Int(try varint())
        guard length >= 0, offset + length <= end else { throw Malformed(offset: offset, reason: "field runs past the end") }
        defer { offset += length }
        return offset..<(offset + length)
    }

    mutating func fixed32() throws(Malformed) -> UInt32 {
        guard offset + 4 <= end else { throw Malformed(offset: offset, reason: "fixed32 runs past the end") }
        var value: UInt32 = 0
        for index in 0..<4 { value |= UInt32(bytes[offset + index]) << (8 * UInt32(index)) }
        offset += 4
        return value
    }

    mutating func skip(_ type: WireType) throws(Malformed) {
        switch type {
        case .varint: _ = try varint()
        case .fixed64:
            guard offset + 8 <= end else { throw Malformed(offset: offset, reason: "fixed64 runs past the end") }
            offset += 8
        case .lengthDelimited: _ = try lengthDelimited()
        case .fixed32: _ = try fixed32()
        }
    }

    func string(_ range: Range<Int>) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
    }
}
