print("onbrand")
