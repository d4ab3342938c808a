/// A value holding one of several types, coded as Swift's synthesized coding of an enum with
/// one unlabelled associated value per case: `{"<case>": {"_0": <value>}}`. `ModelSpec` and
/// `EstimatorState` were such enums; model files store them in this form.
protocol CaseCoded {
    /// The key of every case (`ridge`, `naiveBayes`).
    static var caseKeys: Set<String> { get }
}

/// The outer key, a case's key; other keys are not keys, as for a synthesized enum.
struct CaseKey<Owner: CaseCoded>: CodingKey, CustomStringConvertible, CustomDebugStringConvertible {
    let stringValue: String
    var intValue: Int? { nil }
    init?(stringValue: String) {
        guard Owner.caseKeys.contains(stringValue) else { return nil }
        self.stringValue = stringValue
    }
    init?(intValue: Int) { nil }
    init(known key: String) { stringValue = key }
    var description: String { "CodingKeys(stringValue: \"\(stringValue)\", intValue: nil)" }
    var debugDescription: String { description }
}

/// The inner key `_0`, printed as the synthesized coding's key type of its case
/// (`RidgeCodingKeys`), so decoding errors read as they did.
struct PayloadKey: CodingKey, CustomStringConvertible, CustomDebugStringConvertible {
    let stringValue = "_0", typeName: String
    var intValue: Int? { nil }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { nil }
    init(case key: String) { typeName = key.prefix(1).uppercased() + key.dropFirst() + "CodingKeys" }
    var description: String { "\(typeName)(stringValue: \"_0\", intValue: nil)" }
    var debugDescription: String { description }
}

extension CaseCoded {
    /// Reads `{"<case>": {"_0": <value>}}`: one known key exactly, or the error a synthesized
    /// enum throws; `read` decodes the value of that case from `payload` at `key`.
    static func decodeCase<T>(from decoder: any Decoder,
                              _ read: (_ case: String, _ payload: KeyedDecodingContainer<PayloadKey>, _ key: PayloadKey) throws -> T?) throws -> T {
        let container = try decoder.container(keyedBy: CaseKey<Self>.self)
        let mismatch = DecodingError.typeMismatch(Self.self, DecodingError.Context(
            codingPath: container.codingPath, debugDescription: "Invalid number of keys found, expected one."))
        guard container.allKeys.count == 1, let key = container.allKeys.first else { throw mismatch }
        let inner = try container.nestedContainer(keyedBy: PayloadKey.self, forKey: key)
        guard let value = try read(key.stringValue, inner, PayloadKey(case: key.stringValue)) else { throw mismatch }
        return value
    }

    /// Writes `{"<key>": {"_0": <value>}}`.
    static func encodeCase(_ key: String, _ value: any Encodable, to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CaseKey<Self>.self)
        var inner = container.nestedContainer(keyedBy: PayloadKey.self, forKey: CaseKey(known: key))
        try inner.encode(value, forKey: PayloadKey(case: key))
    }
}

extension Equatable {
    /// Whether `other` is a value of this type equal to this one (`==` across existentials).
    func isEqual(to other: Any) -> Bool { (other as? Self) == self }
}
