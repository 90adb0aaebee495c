public import Foundation

/// A SentencePiece model (`.model` file), read in Swift from its protobuf form.
///
/// Only what encoding needs is kept: the pieces with their scores and types, the model type,
/// byte fallback, and the normalizer flags. Models with a precompiled normalization table (NFKC)
/// are refused: Gemma's tokenizers use the identity normalizer, and an exact count needs the
/// exact table.
public struct SentencePieceModel: Sendable {
    /// SentencePiece's piece types (`ModelProto.SentencePiece.Type`).
    public enum PieceType: Int, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public struct Piece: Sendable {
        public var text: String
        public var score: Float
        public var type: PieceType
    }

    public enum ModelType: Int, Sendable {
        case unigram = 1, bpe = 2, word = 3, character = 4
    }

    public var pieces: [Piece]
    public var modelType: ModelType
    public var byteFallback: Bool
    public var addDummyPrefix: Bool
    public var removeExtraWhitespaces: Bool
    public var escapeWhitespaces: Bool
    public var treatWhitespaceAsSuffix: Bool
    public var normalizerName: String
    public var hasPrecompiledNormalization: Bool

    /// Why a model file could not be used.
    public struct LoadError: Error, CustomStringConvertible, Sendable {
        public var file: String
        public var reason: String
        public var description: String { "\(file): error: \(reason)" }
    }

}

extension SentencePieceModel {
    /// Reads a `.model` file.
    public init(contentsOf path: String) throws(LoadError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LoadError(file: path, reason: "cannot read the tokenizer model")
        }
        do {
            self = try data.withUnsafeBytes { bytes throws(ProtobufReader.Malformed) in try Self.parse(bytes) }
        } catch {
            throw LoadError(file: path, reason: "not a SentencePiece model (\(error))")
        }
        guard !pieces.isEmpty else { throw LoadError(file: path, reason: "the model has no pieces") }
        guard !hasPrecompiledNormalization else {
            throw LoadError(
                file: path,
                reason: "the model uses the \"\(normalizerName)\" normalization table, which Onbrand does not implement; only identity-normalized models (Gemma) count exactly")
        }
    }

    private static func parse(_ bytes: UnsafeRawBufferPointer) throws(ProtobufReader.Malformed) -> SentencePieceModel {
        var model = SentencePieceModel(
            pieces: [], modelType: .unigram, byteFallback: false, addDummyPrefix: true, removeExtraWhitespaces: true,
            escapeWhitespaces: true, treatWhitespaceAsSuffix: false, normalizerName: "", hasPrecompiledNormalization: false)
        var reader = ProtobufReader(bytes)
        while let (number, type) = try reader.nextField() {
            switch (number, type) {
            case (1, .lengthDelimited):
                model.pieces.append(try parsePiece(bytes, try reader.lengthDelimited()))
            case (2, .lengthDelimited):
                var trainer = ProtobufReader(bytes, range: try reader.lengthDelimited())
                while let (field, fieldType) = try trainer.nextField() {
                    switch (field, fieldType) {
                    case (3, .varint): model.modelType = ModelType(rawValue: Int(try trainer.varint())) ?? .unigram
                    case (24, .varint): model.treatWhitespaceAsSuffix = try trainer.varint() != 0
                    case (35, .varint): model.byteFallback = try trainer.varint() != 0
                    default: try trainer.skip(fieldType)
                    }
                }
            case (3, .lengthDelimited):
                var normalizer = ProtobufReader(bytes, range: try reader.lengthDelimited())
                while let (field, fieldType) = try normalizer.nextField() {
                    switch (field, fieldType) {
                    case (1, .lengthDelimited): model.normalizerName = normalizer.string(try normalizer.lengthDelimited())
                    case (2, .lengthDelimited): model.hasPrecompiledNormalization = !(try normalizer.lengthDelimited()).isEmpty
                    case (3, .varint): model.addDummyPrefix = try normalizer.varint() != 0
                    case (4, .varint): model.removeExtraWhitespaces = try normalizer.varint() != 0
                    case (5, .varint): model.escapeWhitespaces = try normalizer.varint() != 0
                    default: try normalizer.skip(fieldType)
                    }
                }
            default:
                try reader.skip(type)
            }
        }
        return model
    }

    private static func parsePiece(_ bytes: UnsafeRawBufferPointer, _ range: Range<Int>) throws(ProtobufReader.Malformed) -> Piece {
        var reader = ProtobufReader(bytes, range: range)
        var piece = Piece(text: "", score: 0, type: .normal)
        while let (number, type) = try reader.nextField() {
            switch (number, type) {
            case (1, .lengthDelimited): piece.text = reader.string(try reader.lengthDelimited())
            case (2, .fixed32): piece.score = Float(bitPattern: try reader.fixed32())
            case (3, .varint): piece.type = PieceType(rawValue: Int(try reader.varint())) ?? .normal
            default: try reader.skip(type)
            }
        }
        return piece
    }
}
