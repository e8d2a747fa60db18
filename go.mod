module github.com/outsider-sec/outsider

go 1.26
