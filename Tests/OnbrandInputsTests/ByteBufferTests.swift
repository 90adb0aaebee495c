import OnbrandInputs
import Testing

@Suite struct ByteBufferTests {
    /// Short appends are copied with overlapping loads and stores, longer ones with `memmove`: at
    /// every length, after every amount already written (and across growth), the bytes are the
    /// bytes appended.
    @Test func appendsOfEveryLengthKeepTheirBytes() {
        let source = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for before in 0..<40 {
            for length in 0...40 {
                var buffer = ByteBuffer(capacity: 1)
                var expected: [UInt8] = []
                for byte in source.prefix(before) {
                    buffer.append(byte)
                    expected.append(byte)
                }
                source.withUnsafeBufferPointer { buffer.append(UnsafeBufferPointer(rebasing: $0[3..<(3 + length)])) }
                expected += source[3..<(3 + length)]
                buffer.append(UInt8(ascii: "!"))
                expected.append(UInt8(ascii: "!"))
                #expect(Array(buffer.written) == expected, "\(before) bytes, then \(length)")
            }
        }
    }
}
