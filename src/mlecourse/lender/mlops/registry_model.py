"""The registered model's code: a small MLflow pyfunc around chapter 5's artifact.

MLflow logs this *file* ("models from code"), not a pickle of an object, so
loading a registered model runs code that is in this repository and reviewed,
and the model itself is read by :func:`mlecourse.lender.modeling.artifact.load_model`:
the skops file is checked against its card's SHA-256 and its types against the
allowlist before anything in it is used. Not imported by the package: MLflow
executes it when it loads a model.
"""
import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class LoanDefaultModel(PythonModel):
    """P(default) for each application, from the checked model directory."""

    def load_context(self, context):
        from mlecourse.lender.modeling import artifact

        self.model, self.card = artifact.load_model(context.artifacts["model_dir"])

    # The DataFrame type hint tells MLflow what comes in (it then skips its own
    # schema inference: the service validates applications against the card).
    def predict(self, context, model_input: pd.DataFrame, params=None):
        from mlecourse.lender import features

        return self.model.predict_proba(model_input[list(features.RAW_FEATURES)])[:, 1]


mlflow.models.set_model(LoanDefaultModel())
