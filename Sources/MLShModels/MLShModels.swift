// MLShModels: transforms, estimators, metrics, cross-validation and tuning for mlsh (LANGUAGE.md §6).
//
// Layout, following scikit-learn's estimator contract in Swift types:
//   EstimatorDescriptor.swift               the `Estimator` protocol and its descriptor: name, tasks,
//                                           settings, help, how a call builds the spec
//   TransformDescriptor.swift               the same for transforms
//   SettingDescriptor.swift                 one setting: key, check, default, help; checking a call
//   ModelSpec.swift                         `ModelSpec` (any estimator's spec) and the registry
//   CaseCoding.swift                        the enum-like coding model files store `ModelSpec`,
//                                           `TransformSpec` and `EstimatorState` in
//   TransformSpec.swift                     each transform's spec, descriptor, fit and fitted step
//                                           (its replay and checks); `TransformSpec`, its registry,
//                                           `PipelineSpec` and `>>`
//   SettingValue.swift                      settings as written in calls
//   Fit.swift                               `fit`: target encoding, transforms, design matrix, estimator
//   FittedModel.swift                       predict / evaluate / importance / explain
//   FittedState.swift (+Validation)         the learned state as plain data, for the store
//   FittedTransform.swift                   `FittedTransform` (any fitted step) and its coding
//   Linear.swift, Logistic.swift            linear / ridge / lasso and logistic: spec, descriptor, fit
//                                           (least squares by LAPACK, lasso by coordinate descent,
//                                           logistic by our own L-BFGS)
//   KMeans.swift, KNN.swift, NaiveBayes.swift   spec, descriptor, fit and prediction
//   Tree.swift, Ensembles.swift             histogram trees; tree / forest / boost specs and fits on them
//   IsolationForest.swift                   isolation_forest (outlier detection, no target): spec,
//                                           descriptor, isolation trees, scores and offset
//   Metrics.swift                           Metrics and MetricFunctions
//   CrossValidation.swift                   folds, `crossValidate`, `tune`
//   Dense.swift, Frame.swift                row-major matrices + BLAS, working columns
//   (randomness: MLShEngine's SeededRandom, with the model streams `init(seed:modelStream:)`)
//
// Adding an estimator: its spec struct, `extension Spec: Estimator` (descriptor and `fit`) and
// its `ModelSpec` factory in its own file, with its learned state (a `LearnedParameters` type,
// its `EstimatorState` factory) unless it reuses one, then its entry in `ModelSpec.estimators`.
// Adding a transform: its spec, `extension Spec: Transform` (descriptor and `fit`), its fitted
// step (a `FittedStep` type) and both factories in its section of TransformSpec.swift, then its
// entry in `TransformSpec.transforms`.
//
// Conventions: results match scikit-learn 1.9 number for number where the algorithm is the same
// (see Tests/MLShModelsTests/QualityTests.swift and scripts/sklearn_reference.py). Every seeded
// fit reproduces bit for bit; parallel work is split into fixed blocks whose partial results
// are combined in block order, so results do not depend on the number of cores. OpenBLAS is
// set to one thread (`blasSingleThreaded`): the models split work over the cores themselves.
