print("mlsh")
