"""poisonlab: training-data poisoning of text classifiers, spam filters first.

Importing the package is cheap: scikit-learn is imported only by the modules that need it.

Examples
--------
>>> import poisonlab
>>> poisonlab.__version__
'0.1.0'
"""

from poisonlab._errors import DataError, DataWarning, ParameterError, PoisonlabError

__version__ = "0.1.0"

__all__ = ["DataError", "DataWarning", "ParameterError", "PoisonlabError", "__version__"]
