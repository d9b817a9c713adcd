// Browsers without ES modules (very old in-app browsers) get a message instead of a blank page.
(function () {
  var loading = document.getElementById("loading");
  if (loading) {
    loading.className = "alert";
    loading.innerText = "您的浏览器版本过低，无法使用本页面。请升级微信或使用手机自带浏览器打开。";
  }
})();
