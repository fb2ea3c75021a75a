// Start Swagger UI on the API docs page with the settings the page carries as data.
window.addEventListener("load", function () {
  var container = document.getElementById("swagger-ui-container");
  var overrides = JSON.parse(document.getElementById("swagger-ui-config").textContent);
  var config = { url: container.dataset.specUrl, dom_id: "#swagger-ui-container" };
  window.ui = SwaggerUIBundle(Object.assign(config, overrides));
});
