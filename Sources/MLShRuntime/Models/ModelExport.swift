import MLShLanguage
import MLShModels
import MLShStore

/// What `mlsh export` does: a registered model version as an ONNX file.
public enum ModelExport {
    /// Writes version `reference` (`name@3`, `name@production`) of `store` as ONNX to `path`.
    public static func onnx(_ reference: String, from store: Store, to path: String) throws(MLShError) {
        let model = try storing { () throws(StoreError) -> FittedModel in try store.model(try store.resolve(reference).artifact) }
        try modeling { () throws(ModelError) in try ONNXExport.write(model, to: path, producerVersion: Runtime.version) }
    }
}
