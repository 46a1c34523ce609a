# The report layer: gnuplot scripts and t-SNE maps.
omni_add_test(gnuplot_test report/gnuplot_test.cpp)
omni_add_test(tsne_test report/tsne_test.cpp)
