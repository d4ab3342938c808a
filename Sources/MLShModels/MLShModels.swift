// MLShModels: transforms, estimators, metrics, cross-validation and tuning for mlsh (LANGUAGE.md §6).
//
// Layout, following scikit-learn's estimator contract in Swift types:
//   ModelSpec.swift, TransformSpec.swift   parameter structs (Codable specs) and `>>` composition
//   SettingValue.swift                      settings as written in calls, validated by SettingReader
//   Fit.swift                               `fit`: target encoding, transforms, design matrix, estimator
//   FittedModel.swift                       predict / evaluate / importance / explain
//   FittedState.swift (+Validation)         the learned state as plain data, for the store
//   FittedTransform.swift                   what each transform learns and how it is replayed
//   Linear.swift, Logistic.swift            least squares / ridge (LAPACK), lasso (coordinate descent),
//                                           logistic regression (own L-BFGS)
//   KMeans.swift, KNN.swift, NaiveBayes.swift
//   Tree.swift, Ensembles.swift             histogram trees; forest and gradient boosting on them
//   Metrics.swift                           Metrics and MetricFunctions
//   CrossValidation.swift                   folds, `crossValidate`, `tune`
//   Dense.swift, ModelRandom.swift, Frame.swift   row-major matrices + BLAS, seeded RNG, working columns
//
// Conventions: results match scikit-learn 1.9 number for number where the algorithm is the same
// (see Tests/MLShModelsTests/QualityTests.swift and scripts/sklearn_reference.py). Every seeded
// fit reproduces bit for bit; parallel work is split into fixed blocks whose partial results
// are combined in block order, so results do not depend on the number of cores. OpenBLAS is
// set to one thread (`blasSingleThreaded`): the models split work over the cores themselves.
