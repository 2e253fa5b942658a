package neterr

var host = darwinErrnos
