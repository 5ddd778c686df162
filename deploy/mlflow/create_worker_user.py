"""Create the worker's MLflow user (not an admin), once; run by the mlflow-init service/Job.

Reads everything from the environment, so no password is on a command line:
MLFLOW_TRACKING_URI, MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD (the admin),
MLFLOW_WORKER_USERNAME / MLFLOW_WORKER_PASSWORD (the user to create). The worker then creates
its experiment and registered model itself, and MLflow gives their creator MANAGE on them and
nothing else (default_permission = READ in basic_auth.ini): it cannot manage users, or change
other experiments and models.
"""

import os
import sys
import time

from mlflow.server.auth.client import AuthServiceClient

URI = os.environ["MLFLOW_TRACKING_URI"]
USER = os.environ["MLFLOW_WORKER_USERNAME"]


def main() -> int:
    client = AuthServiceClient(URI)
    for _ in range(60):
        try:
            client.get_user(USER)
            print(f"MLflow user {USER!r} exists; nothing to do")
            return 0
        except Exception as err:  # the server is starting, or the user does not exist yet
            if "RESOURCE_DOES_NOT_EXIST" in str(err):
                client.create_user(USER, os.environ["MLFLOW_WORKER_PASSWORD"])
                print(f"created MLflow user {USER!r} (not an admin)")
                return 0
            time.sleep(2)
    print(f"cannot reach the MLflow server at {URI}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
